"""Where the command line finds API credentials, and how it keeps secrets off the command line.

In order: ``--private-key-file`` or ``--secret-file`` (with ``--api-key`` or the
``API_KEY`` variable), else the environment variables ``credentials_from_env`` reads
(``BINANCE_API_KEY`` plus one of ``BINANCE_API_SECRET``, ``BINANCE_PRIVATE_KEY``,
``BINANCE_PRIVATE_KEY_PATH``), else ``--env-file`` holding the same variables. Secret values
are never accepted as arguments: they would end up in shell history and in every process
listing (``ps``), so the option that would take one is refused with a pointer to the file and
environment alternatives, without repeating the value.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from trio_binance._cli_values import UsageError, parse_env_file
from trio_binance._credentials import (
    Credentials,
    CredentialsError,
    HmacCredentials,
    credentials_from_env,
    credentials_from_file,
)

DEFAULT_PREFIX = "BINANCE_"
SECRET_OPTIONS = ("--api-secret", "--secret", "--secret-key", "--private-key")


def add_credential_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "credentials",
        "Signed methods need an API key. Without these options, the BINANCE_* environment "
        "variables are used when BINANCE_API_KEY is set. Secrets are never accepted as "
        "arguments.",
    )
    group.add_argument("--api-key", metavar="KEY", help="API key (default: $BINANCE_API_KEY)")
    group.add_argument(
        "--private-key-file",
        metavar="PATH",
        help="Ed25519 or RSA private key, PEM (passphrase from $BINANCE_PRIVATE_KEY_PASSPHRASE)",
    )
    group.add_argument("--secret-file", metavar="PATH", help="file holding an HMAC secret key")
    group.add_argument(
        "--env-file",
        metavar="PATH",
        help="read the BINANCE_* variables from this file (as `exchange --keys-dir` writes)",
    )
    group.add_argument(
        "--env-prefix",
        default=DEFAULT_PREFIX,
        metavar="PREFIX",
        help=f"prefix of the credential variables (default: {DEFAULT_PREFIX})",
    )
    group.add_argument(
        "--no-logon",
        action="store_true",
        help="sign every request instead of logging the connection on (Ed25519 keys)",
    )
    for option in SECRET_OPTIONS:
        group.add_argument(option, dest="secret_on_command_line", help=argparse.SUPPRESS)


def names_credentials(args: argparse.Namespace) -> bool:
    """Whether the command line itself points at credentials (not only the environment)."""
    given = (args.secret_on_command_line, args.env_file, args.private_key_file)
    return any(value is not None for value in (*given, args.secret_file, args.api_key))


def load_credentials(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> Credentials | None:
    """The credentials the arguments and environment point at, or None when there are none."""
    if args.secret_on_command_line is not None:
        raise UsageError(
            "secrets are not accepted on the command line (shell history, process listings): "
            f"use --secret-file / --private-key-file, an --env-file, or the "
            f"{args.env_prefix}API_SECRET / {args.env_prefix}PRIVATE_KEY_PATH variables"
        )
    env = dict(os.environ if environ is None else environ)
    if args.env_file is not None:
        env.update(_read_env_file(args.env_file))
    if args.private_key_file is not None and args.secret_file is not None:
        raise UsageError("give either --private-key-file or --secret-file, not both")
    if args.private_key_file is not None or args.secret_file is not None:
        return _from_files(args, env)
    if args.api_key is not None:
        env[f"{args.env_prefix}API_KEY"] = args.api_key
    if not env.get(f"{args.env_prefix}API_KEY"):
        return None
    return credentials_from_env(args.env_prefix, env)


def _from_files(args: argparse.Namespace, env: Mapping[str, str]) -> Credentials:
    api_key = args.api_key or env.get(f"{args.env_prefix}API_KEY")
    if not api_key:
        raise UsageError(f"a key file needs --api-key (or {args.env_prefix}API_KEY)")
    if args.secret_file is not None:
        return HmacCredentials(api_key, _read(args.secret_file, "--secret-file").strip())
    passphrase = env.get(f"{args.env_prefix}PRIVATE_KEY_PASSPHRASE") or None
    try:
        return credentials_from_file(api_key, args.private_key_file, passphrase)
    except CredentialsError as exc:
        raise CredentialsError(f"--private-key-file: {exc}") from None


def _read_env_file(path: str) -> dict[str, str]:
    return parse_env_file(_read(path, "--env-file"), path)


def _read(path: str, option: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{option}: cannot read {path}: {exc.strerror}") from None
