/*
 * main - command line, config, listen socket, then the master.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proc/config.h"
#include "proc/listen.h"
#include "proc/log.h"
#include "proc/master.h"
#include "route/sign.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mediafcgi [--config FILE] [--listen unix:PATH|HOST:PORT] [--root DIR]\n"
	    "                 [--workers N] [--foreground] [--test-config] [--version] [--help]\n"
	    "       mediafcgi --config FILE --sign /path?query [--expires SECONDS]\n"
	    "                 print the URL signed (with the first signing_key),\n"
	    "                 valid for SECONDS from now if --expires is given\n"
	    "\n"
	    "A FastCGI responder that answers image requests in-process.\n"
	    "Without --listen it serves the listening socket inherited as fd 0\n"
	    "(spawn-fcgi, lighttpd bin-path, mod_fcgid, systemd StandardInput=socket).\n"
	    "Flags override the config file. See README.md for the URL API.\n");
}

/* Detaches from the terminal; stderr stays where it was, for the log. */
static int
daemonize(void)
{
	pid_t pid = fork();
	int nul;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -1;
	if ((nul = open("/dev/null", O_RDWR)) >= 0) {
		dup2(nul, STDIN_FILENO);
		dup2(nul, STDOUT_FILENO);
		if (nul > STDERR_FILENO)
			close(nul);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "root", required_argument, NULL, 'r' },
		{ "workers", required_argument, NULL, 'w' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "test-config", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "sign", required_argument, NULL, 's' },
		{ "expires", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	struct master_flags flags = { 0 };
	struct config *cfg = NULL;
	const char *config_path = NULL, *sign = NULL;
	unsigned long expires_in = 0;
	char why[512];
	int foreground = 0, test_only = 0, ch, fd, code = 1;

	while ((ch = getopt_long(argc, argv, "c:l:r:w:fths:e:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 'l': flags.listen = optarg; break;
		case 'r': flags.root = optarg; break;
		case 'w': {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || n < 1 || n > 256 || optarg[0] == '-') {
				fprintf(stderr, "mediafcgi: --workers: expected 1..256, got '%s'\n", optarg);
				return 2;
			}
			flags.workers = (unsigned)n;
			break;
		}
		case 'f': foreground = 1; break;
		case 't': test_only = 1; break;
		case 'V': printf("mediafcgi %s\n", MF_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		case 's': sign = optarg; break;
		case 'e': {
			char *end;

			errno = 0;
			expires_in = strtoul(optarg, &end, 10);
			if (errno || *end || expires_in < 1 ||
			    expires_in > 100ul * 365 * 86400 || optarg[0] == '-') {
				fprintf(stderr, "mediafcgi: --expires: expected "
				    "seconds from now, 1..3153600000, got '%s'\n",
				    optarg);
				return 2;
			}
			break;
		}
		default: usage(stderr); return 2;
		}
	}
	if (expires_in > 0 && sign == NULL) {
		fprintf(stderr, "mediafcgi: --expires goes with --sign\n");
		return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "mediafcgi: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return 1;
	config_init(cfg);
	if (sign != NULL) {
		char url[8192];
		struct err e;

		err_init(&e);
		if (config_path && config_load(cfg, config_path, why, sizeof(why)) < 0) {
			fprintf(stderr, "mediafcgi: %s\n", why);
		} else if (cfg->n_signing_keys == 0) {
			fprintf(stderr, "mediafcgi: --sign: no [security] signing_key in the config\n");
		} else if (expires_in > 0 &&
		    (unsigned long long)time(NULL) + expires_in > UINT32_MAX) {
			fprintf(stderr, "mediafcgi: --expires: past 2106\n");
		} else if (sign_url(cfg->signing_keys[0], sign, expires_in > 0 ?
		    (uint32_t)(time(NULL) + (time_t)expires_in) : 0, url,
		    sizeof(url), &e) < 0) {
			fprintf(stderr, "mediafcgi: --sign: %s\n", e.msg);
		} else {
			printf("%s\n", url);
			code = 0;
		}
		goto out;
	}
	if ((config_path && config_load(cfg, config_path, why, sizeof(why)) < 0) ||
	    master_apply_flags(cfg, &flags, why, sizeof(why)) < 0 ||
	    config_validate(cfg, why, sizeof(why)) < 0) {
		fprintf(stderr, "mediafcgi: %s\n", why);
		goto out;
	}
	if (test_only) {
		printf("config ok\n");
		code = 0;
		goto out;
	}
	if (log_open(cfg->access_log, cfg->error_log) < 0) {
		fprintf(stderr, "mediafcgi: cannot open the logs: %s\n",
		    strerror(errno));
		goto out;
	}
	if ((fd = listen_open(cfg->listen, why, sizeof(why))) < 0) {
		fprintf(stderr, "mediafcgi: %s\n", why);
		goto out;
	}
	/* Stay attached when a parent supervises us through fd 0. */
	if (!foreground && cfg->listen != NULL && daemonize() < 0) {
		log_error("daemonize: %s", strerror(errno));
		goto out;
	}
	code = master_run(cfg, fd, config_path, &flags);
	return code;	/* master_run() owned and freed cfg */
out:
	config_cleanup(cfg);
	free(cfg);
	return code;
}
