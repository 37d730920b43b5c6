# Sourced by scripts/*.sh: use the active virtualenv if there is one, else create/refresh .venv, and install the
# project (editable) with the extras named in $1. Prints which environment it uses.
_extras="${1:-}"
if [ -n "${VIRTUAL_ENV:-}" ]; then
  echo "using the active virtual environment $VIRTUAL_ENV" >&2
else
  if [ ! -x .venv/bin/python ]; then
    echo "creating a virtual environment in .venv (python3 -m venv)" >&2
    python3 -m venv .venv
  fi
  # shellcheck disable=SC1091
  source .venv/bin/activate
  echo "using the virtual environment .venv" >&2
fi
_stamp=".venv-installed${_extras:+-$_extras}"
if [ ! -f "$VIRTUAL_ENV/$_stamp" ] || [ pyproject.toml -nt "$VIRTUAL_ENV/$_stamp" ]; then
  echo "installing the project${_extras:+ with [$_extras]} (pip install -e .)" >&2
  python -m pip install -q --upgrade pip >&2
  python -m pip install -q -e ".${_extras:+[$_extras]}" >&2
  touch "$VIRTUAL_ENV/$_stamp"
fi
