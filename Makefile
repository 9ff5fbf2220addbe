# The two commands of the quick start, and the checks CI runs. Each target installs first
# (pnpm through scripts/pnpm.sh, then the locked dependencies), so a fresh clone needs only
# Node and npm.
PNPM := ./scripts/pnpm.sh

.PHONY: install run dev test lint format typecheck check compose-test

install:
	@$(PNPM) install --frozen-lockfile --reporter=silent

run: install
	$(PNPM) start

dev: install
	$(PNPM) run dev

test: install
	$(PNPM) test

lint: install
	$(PNPM) run lint

format: install
	$(PNPM) run format

typecheck: install
	$(PNPM) run typecheck

check: lint typecheck test

# docker-compose.yml and the Dockerfile run for real: a Docker engine of its own, stand-in base
# images, the stack scaled, killed, scraped and traced (ops/compose-test/run.sh). As root.
compose-test: install
	bash ops/compose-test/run.sh
