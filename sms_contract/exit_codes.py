"""The exit codes of every ``sms-contract`` command, in one place (README, ``--help``)."""

#: Success: valid, accepted, conforming.
EXIT_OK = 0
#: The input, payload or endpoint breaks the contract (for verify: a MUST check failed).
EXIT_INVALID = 1
#: Bad usage, or input that cannot be read at all.
EXIT_USAGE = 2
#: The endpoint cannot be reached (DNS, refused connection, timeout, TLS).
EXIT_UNREACHABLE = 3
