# Stand-in for pip's bootstrap script (this machine reaches PyPI but not the script's host): ensurepip.
import ensurepip
import sys

sys.exit(ensurepip._main(["--default-pip"]))
