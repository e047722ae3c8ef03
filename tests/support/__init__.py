"""
support - what the integration tests and scripts/ share, in one place.

    webservers  mediafcgi behind a real nginx or lighttpd on loopback
                (standard library only: scripts import it too)
    fcgiclient  the one FastCGI client: requests straight to mediafcgi
    procs       /proc: children, process groups, states, fds, VmRSS/VmHWM
    waiting     wait_until: poll a predicate against a deadline
    checks      HTTP answer checks: JSON errors, mediafcgi's log since the
                last look, a good request served next
    imaging     generated images and image comparisons (Pillow, pytest)
    videos      generated video fixtures (ffmpeg), cached under build/
    hostile     generators of hostile inputs (bombs, mutants, names)

Import it with tests/ on sys.path: pytest does (tests/integration/pytest.ini
`pythonpath = ..`); scripts run `PYTHONPATH=$ROOT/tests python3 ...`.
Importing the package imports none of its modules, so a script that needs
webservers alone pulls in nothing outside the standard library.
"""
