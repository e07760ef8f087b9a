"""What the long jobs (covers, trainings) share: their line and their lifecycle."""
