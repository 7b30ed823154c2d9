# masa.monitoring: `make up` runs the stack on the local Docker engine, `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
CHECKOV_VENV := $(VENV)/checkov
STAMP := $(VENV)/.installed
COLLECTION_LINK := .collections/ansible_collections/masa/monitoring
INVENTORY ?= inventory/local
PURGE ?= 0
# Which image each role runs on this machine: written by scripts/images.sh, read as extra vars.
IMAGES := .state/images.yml
# Go builds the images where no registry answers; /usr/local/go is where Go's own archive installs.
export PATH := $(BIN):$(PATH):/usr/local/go/bin
# Some machines list package indexes that do not exist; pip warns about each, for every package.
PIP_NOISE := 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help up down status test lint sanity unit integration molecule terraform-check bench \
        venv engine images collection build clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt requirements-checkov.txt sdk/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip $(PIP_NOISE)
	$(BIN)/pip install -q -r requirements-dev.txt -e sdk $(PIP_NOISE)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q -r requirements-checkov.txt $(PIP_NOISE)
	touch $@

venv: $(STAMP) collection ## Create or refresh the virtualenv (reused when requirements have not changed)

collection: ## Make the checkout importable as masa.monitoring
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn ../../.. $(COLLECTION_LINK)

engine: ## Make sure a Docker engine answers (installs docker.io as root on Debian)
	scripts/docker-engine.sh

images: engine ## Pull the official images, or build offline ones from Debian packages
	scripts/images.sh

up: venv images ## Run the whole stack on the local Docker engine
	$(BIN)/ansible-playbook site.yml -i $(INVENTORY) -e @$(IMAGES)
	@$(BIN)/python scripts/status.py --wait 60

down: venv ## Remove the stack; PURGE=1 also removes its data volumes
	$(BIN)/ansible-playbook playbooks/teardown.yml -i $(INVENTORY) $(if $(wildcard $(IMAGES)),-e @$(IMAGES)) -e teardown_purge=$(PURGE)

status: venv ## Print where everything is and a health summary; fails when the stack is degraded
	$(BIN)/python scripts/status.py $(if $(LAYOUT),--layout $(LAYOUT))

test: lint sanity unit integration terraform-check molecule ## Run every test
	@echo "make test: all suites passed"

lint: venv ## yamllint and ansible-lint (production profile)
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --profile production

sanity: venv ## ansible-test sanity from an ansible_collections tree
	scripts/sanity.sh

unit: venv ## Unit tests of the modules, plugins and SDK
	$(BIN)/pytest -q tests/unit sdk/tests

integration: venv images ## Tests against real Consul, Prometheus, Alertmanager, node-exporter and openssl
	$(BIN)/pytest -q tests/integration

molecule: venv images ## The molecule scenarios
	cd $(CURDIR) && $(BIN)/molecule test --all

terraform-check: venv ## fmt, validate when providers install, checkov, structural tests, the aws_ec2 inventory against moto
	@tf=$$(scripts/terraform-cli.sh); \
	$$tf -chdir=terraform fmt -check -recursive; \
	if $$tf -chdir=terraform init -backend=false -input=false >/dev/null 2>&1; then \
	  $$tf -chdir=terraform validate; \
	else \
	  echo "terraform validate: not run, the AWS provider cannot be installed here (see terraform/README.md)"; \
	fi
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download -d terraform --framework terraform
	$(BIN)/pytest -q tests/terraform

bench: venv images ## Run the benchmarks in bench/ and print their figures
	for script in bench/[a-z]*.py; do $(BIN)/python $$script; done

build: venv ## Build the collection tarball into dist/
	$(BIN)/ansible-galaxy collection build --force --output-path dist .

clean: ## Remove the virtualenv and build outputs (not the stack)
	rm -rf $(VENV) .collections .build dist tests/output
