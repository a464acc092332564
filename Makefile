# MedGLIP: `make test` and `make demo` are the two set-up commands on a fresh Debian machine.
APT_PACKAGES := libopenblas-dev libpng-dev libturbojpeg0-dev libsqlite3-dev pkg-config
PKG_CONFIG_MODULES := openblas libpng16 libturbojpeg sqlite3

.PHONY: test demo deps bench

deps:
	@missing=""; \
	for m in $(PKG_CONFIG_MODULES); do \
		pkg-config --exists $$m 2>/dev/null || missing="$$missing $$m"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "missing system libraries:$$missing"; \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update && apt-get install -y $(APT_PACKAGES); \
		else \
			echo "install them with:"; \
			echo "  sudo apt-get update && sudo apt-get install -y $(APT_PACKAGES)"; \
			exit 1; \
		fi; \
	fi

test: deps
	swift build --build-tests -c release -Xswiftc -enable-testing
	swift test -c release -Xswiftc -enable-testing --skip-build

demo: deps
	swift build -c release
	.build/release/medglip bench engine

bench: deps
	swift build -c release
	.build/release/medglip bench engine --json
