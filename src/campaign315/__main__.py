from campaign315.cli import main

if __name__ == "__main__":  # worker processes re-import this module; only the real start runs the CLI
    main()
