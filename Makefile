# mailops.mailhost: every entry point a developer, CI or a user needs.
#   make demo   bring up a local demo mail host container and converge it
#   make test   the whole suite: setup, lint, unit, integration, molecule
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
COLLECTIONS := $(VENV)/collections
IMAGE_FILE := $(CURDIR)/.cache/image
# The EL version profiles: Debian 11 carries EL9's Postfix and Python, Debian 13 EL10's
# fail2ban, firewalld and LMDB-only tables (see README, "Supported platforms").
PROFILE_IMAGE_FILES := $(CURDIR)/.cache/image-bullseye $(CURDIR)/.cache/image-trixie
APT_PACKAGES := podman runc debootstrap uidmap slirp4netns swaks knot knot-dnsutils pebble openssl

export PATH := $(VENV)/bin:$(PATH)
export CONTAINERS_CONF := $(CURDIR)/tests/podman/containers.conf
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export MOLECULE_GLOB := molecule/*/molecule.yml
export PYTHONDONTWRITEBYTECODE := 1

SCENARIO ?=
# Scenarios whose images come from a container registry: run only with MOLECULE_REGISTRY=1
# (this build environment reaches no registry; see README).
REGISTRY_SCENARIOS := alma
ALL_SCENARIOS := $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))
LOCAL_SCENARIOS := $(if $(MOLECULE_REGISTRY),$(ALL_SCENARIOS),$(filter-out $(REGISTRY_SCENARIOS),$(ALL_SCENARIOS)))
SCENARIOS := $(if $(SCENARIO),$(SCENARIO),$(LOCAL_SCENARIOS))

.PHONY: help setup system-packages venv image profile-images lint unit integration docs compat molecule molecule-alma test demo demo-clean bench build

help:
	@echo "make demo        bring up a local demo mail host (container) and converge it"
	@echo "make test        the whole suite: setup, lint, unit, integration tests, every Molecule scenario"
	@echo "make setup       system packages, virtualenv, collection link, test image"
	@echo "make lint | unit | integration | docs | compat | molecule [SCENARIO=name] | bench | build | demo-clean"

## setup: idempotent and quick when everything is already there
setup: system-packages venv image

system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@# Pebble and knot are used by the tests only: never leave the packaged services running.
	@systemctl disable --now knot.service >/dev/null 2>&1 || true

venv: $(VENV)/.installed $(COLLECTIONS)/ansible_collections/mailops/mailhost

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

# The collection is used from the checkout under its FQCN, mailops.mailhost.
$(COLLECTIONS)/ansible_collections/mailops/mailhost:
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

image: system-packages
	@mkdir -p $(dir $(IMAGE_FILE))
	tests/images/build.sh bookworm > $(IMAGE_FILE)
	@echo "Test image: $$(cat $(IMAGE_FILE))"

profile-images: system-packages
	@mkdir -p $(dir $(IMAGE_FILE))
	tests/images/build.sh bullseye > $(CURDIR)/.cache/image-bullseye
	tests/images/build.sh trixie > $(CURDIR)/.cache/image-trixie
	@echo "Profile images: $$(cat $(PROFILE_IMAGE_FILES) | xargs)"

## checks
lint: venv
	yamllint --strict .
	ansible-lint
	ruff check plugins tests molecule
	ruff format --check plugins tests molecule
	tests/check-docs.sh
	python tests/role_docs.py --check
	tests/sanity/run.sh
	actionlint .github/workflows/*.yml examples/inventory/.github/workflows/*.yml
	antsibull-changelog lint
	@# CHANGELOG.rst is generated from changelogs/changelog.yaml and kept in the repository.
	antsibull-changelog generate && git diff --exit-code -- CHANGELOG.rst
	tests/package/check.sh

# Unit tests and the per-platform static checks, then the modules' tests again under
# Python 3.9 (AlmaLinux 9's) in the Debian 11 image.
unit: venv profile-images
	pytest tests/unit
	tests/py39/run.sh

# Tests against real servers started by the tests themselves (Knot DNS on loopback).
integration: venv system-packages
	pytest tests/integration

# The documentation site (antsibull-docs, Sphinx): .cache/docs/build/html; see tests/docs/build.sh.
docs: venv
	tests/docs/build.sh

# The older ansible-core versions the collection supports (tests/compat/versions.txt); see tests/compat/run.sh.
compat: venv image
	tests/compat/run.sh

molecule: venv image profile-images
	@export MAILHOST_IMAGE=$$(cat $(IMAGE_FILE)) \
	  MAILHOST_IMAGE_EL9=$$(cat $(CURDIR)/.cache/image-bullseye) \
	  MAILHOST_IMAGE_EL10=$$(cat $(CURDIR)/.cache/image-trixie); \
	for s in $(SCENARIOS); do \
	  echo "=== molecule scenario: $$s ==="; \
	  molecule test -s $$s || { echo "Molecule scenario $$s FAILED"; exit 1; }; \
	done; \
	echo "Molecule: $(words $(SCENARIOS)) scenario(s) passed: $(SCENARIOS)"

# The AlmaLinux scenario on real AlmaLinux images (MOLECULE_ALMA_VERSION=9 or 10): needs a
# container registry; .github/workflows/alma.yml runs it. No locally built image is needed.
molecule-alma: venv
	sysctl -w fs.inotify.max_user_instances=1024 >/dev/null 2>&1 || true
	molecule test -s alma

test: setup lint unit integration docs compat molecule

## the demo mail host
demo: setup
	MAILHOST_IMAGE=$$(cat $(IMAGE_FILE)) tests/demo.sh up

demo-clean:
	tests/demo.sh down

bench: setup
	PYTHONPATH=$(COLLECTIONS):$(CURDIR)/tests/integration python tests/bench/mail_dns_bench.py
	MAILHOST_IMAGE=$$(cat $(IMAGE_FILE)) python tests/bench/stack_bench.py

build: venv
	ansible-galaxy collection build --force --output-path .cache/
