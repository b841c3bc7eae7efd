print("coop-edge")
