"""`python -m dnastore`, and the `dnastore` command's entry point: Ctrl-C is taken in hand
(:func:`dnastore.io.atomic.guard_interrupts`) before the command line and its libraries load."""


def run() -> None:
    from dnastore.io.atomic import guard_interrupts
    guard_interrupts()
    from dnastore.cli import main
    main()


if __name__ == "__main__":
    run()
