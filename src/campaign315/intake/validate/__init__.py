"""Step 4 of the flow: located cells → a typed filled form plus every problem, each with a code and a cell."""
