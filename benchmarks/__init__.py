"""The harness: suites, the runner, results and plots, and the `gebench` command line."""
