from campaign315.cli import main

main()
