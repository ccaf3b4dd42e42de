/*
 * fashionctl.c - the operator CLI: create the schemas, load the catalog,
 * migrate it to the new layout, compute its embeddings, verify it, switch
 * the active profile, sync the Vector Search indexes, seed the demo
 * accounts.
 * See doc/DATA.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fashionctl.h"
#include "log.h"

struct command {
	const char	*name;
	int		(*fn)(struct ctl *, int, char **);
	int		 needs_config;
};

static const struct command commands[] = {
	{ "init",	cmd_init,	1 },
	{ "load",	cmd_load,	1 },
	{ "migrate",	cmd_migrate,	1 },
	{ "embed",	cmd_embed,	1 },
	{ "verify",	cmd_verify,	1 },
	{ "switch",	cmd_switch,	1 },
	{ "status",	cmd_status,	1 },
	{ "sync",	cmd_sync,	1 },
	{ "personas",	cmd_personas,	1 },
	{ NULL,		NULL,		0 }
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fashionctl [-c config] command [args]\n"
	    "\n"
	    "commands:\n"
	    "  init                          create both layouts' schemas "
	    "(idempotent)\n"
	    "  load --styles FILE [--images DIR] [--strict-quotes]\n"
	    "                                load styles.csv into the old "
	    "layout\n"
	    "  migrate [--images DIR]        build the new layout from the old "
	    "one\n"
	    "  embed [--images DIR] [--jobs N] [--force]\n"
	    "        [--profile fashion_demo|fashion_sota|all]\n"
	    "                                compute the CLIP embeddings "
	    "(clip.url)\n"
	    "  verify [PROFILE]              check one or both layouts\n"
	    "  switch [-f] PROFILE           make PROFILE active, SIGHUP the "
	    "master\n"
	    "  status                        active profile and row counts\n"
	    "  sync [--all] [INDEX...]       sync the Vector Search indexes "
	    "(vs.url) of the\n"
	    "                                active profile, of both, or "
	    "those named\n"
	    "  personas [--profile PROFILE|--all]\n"
	    "                                seed the five demo accounts "
	    "(DEMO ONLY\n"
	    "                                passwords) with preferences "
	    "from the catalog\n"
	    "\n"
	    "config: -c, else $FASHION_CONFIG, else %s\n"
	    "images: --images, else $FASHION_IMAGES\n"
	    "exit status: 0 ok, 1 failed check or error, 2 usage error\n",
	    CTL_DEFAULT_CONFIG);
}

int
main(int argc, char *argv[])
{
	struct ctl ctl;
	const struct command *cmd;
	const char *e;
	char err[1024];
	int ch, rc = EXIT_FAIL;

	memset(&ctl, 0, sizeof(ctl));
	log_init("fashionctl", 0);
	if ((e = getenv("FASHION_CONFIG")) != NULL && e[0] != '\0')
		ctl.cfgpath = e;
	else
		ctl.cfgpath = CTL_DEFAULT_CONFIG;

	/* "+": stop at the command; its options are its own. */
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			ctl.cfgpath = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[0], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	for (cmd = commands; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, argv[0]) == 0)
			break;
	if (cmd->name == NULL) {
		ctl_warnx("unknown command \"%s\"", argv[0]);
		usage(stderr);
		return EXIT_USAGE;
	}
	ctl.tty = isatty(STDERR_FILENO);
	if (cmd->needs_config &&
	    (ctl.cfg = config_load(ctl.cfgpath, err, sizeof(err))) == NULL) {
		ctl_warnx("config: %s", err);
		return EXIT_FAIL;
	}
	optind = 0;		/* glibc: re-initialise; the command parses its options */
	rc = cmd->fn(&ctl, argc, argv);

	if (ctl.conn != NULL)
		PQfinish(ctl.conn);
	config_free(ctl.cfg);
	return rc;
}
