from cairn.cli import run

run()
