from fenceline.cli.main import run

run()
