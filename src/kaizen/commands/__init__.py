"""Commands that are not DVC stages (summary, predict, report, sweep, …): each module adds its
subcommands to the CLI with `register(commands)`. `runner` is the one home of git/dvc calls."""
