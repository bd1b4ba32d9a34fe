# The two commands of the README: `make demo` (the main job) and `make test`.
# Both create the virtualenv at .venv on first use; nothing needs installing by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup olah kserve-sdk kserve-server chromium nginx demo test lint typecheck check cards gpu-bundle mutation dist clean

$(STAMP): pyproject.toml constraints.txt constraints-lock.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c constraints.txt -c constraints-lock.txt -e '.[dev]'
	touch $(STAMP)

# TensorRT's API for mypy (tensorrt-stubs: TensorRT 10.13's signatures), in its own folder on
# mypy_path: the library itself cannot be installed here. --no-deps: the stubs name the real
# tensorrt as a dependency. Its tensorrt/ is an empty namespace package if put on sys.path.
# Two slips there are Python syntax errors, at which mypy stops: four plugin methods name a
# parameter `in` (a keyword), and add_scale_nd has a required parameter after defaults. The sed
# renames the one and gives the other a default; neither is called by this project.
TYPINGS := .typings
TYPINGS_STAMP := $(TYPINGS)/.installed
TENSORRT_STUBS_VERSION := 10.13.0.35.1

$(TYPINGS_STAMP): | $(STAMP)
	rm -rf $(TYPINGS)
	$(PIP) install -q --no-deps --target $(TYPINGS) tensorrt-stubs==$(TENSORRT_STUBS_VERSION)
	sed -i -e 's/\([(,] *\)in: /\1in_: /' -e 's/\(= None, channel_axis: int\))/\1 = ...)/' \
	  $(TYPINGS)/tensorrt_bindings/tensorrt.pyi
	touch $(TYPINGS_STAMP)

setup: $(STAMP) $(TYPINGS_STAMP)  ## create .venv and install genzoo with every extra (+ type stubs)

# The olah HF mirror the hub tests pull from. Its own venv: its pins clash with ours (~20 s).
OLAH_VENV := .venv-olah
OLAH_STAMP := $(OLAH_VENV)/.installed
OLAH_VERSION := 0.5.4

$(OLAH_STAMP):
	test -x $(OLAH_VENV)/bin/python || $(PYTHON) -m venv $(OLAH_VENV)
	$(OLAH_VENV)/bin/python -m pip install -q olah==$(OLAH_VERSION)
	touch $(OLAH_STAMP)

olah: $(OLAH_STAMP)  ## create .venv-olah with the olah mirror used by tests/hub

# The KServe API types tests/deploy checks manifests against: the kserve wheel's own files only.
# Its model-server dependencies (protobuf>=6, pandas<3, ...) clash with ours and are not needed.
KSERVE_SDK := .kserve-sdk
KSERVE_STAMP := $(KSERVE_SDK)/.installed
KSERVE_VERSION := 0.21.0

$(KSERVE_STAMP): | $(STAMP)
	rm -rf $(KSERVE_SDK)
	$(PIP) install -q --no-deps --target $(KSERVE_SDK) kserve==$(KSERVE_VERSION)
	touch $(KSERVE_STAMP)

kserve-sdk: $(KSERVE_STAMP)  ## install the KServe API types (no dependencies) for tests/deploy

# KServe's own Python model server, a real server that speaks only the v2 core protocol (no
# Triton extensions): tests/serving/test_serving_core_protocol.py serves zoo models there. Its
# own venv, like olah's: its dependencies (protobuf>=6, numpy 2) clash with ours (40-60 s).
# onnxruntime is the version of constraints-lock.txt, so both servers run the same graph code.
KSERVE_VENV := .venv-kserve
KSERVE_SERVER_STAMP := $(KSERVE_VENV)/.installed

$(KSERVE_SERVER_STAMP): constraints-lock.txt
	test -x $(KSERVE_VENV)/bin/python || $(PYTHON) -m venv $(KSERVE_VENV)
	$(KSERVE_VENV)/bin/python -m pip install -q kserve==$(KSERVE_VERSION) \
	  "$$(grep '^onnxruntime==' constraints-lock.txt)"
	touch $(KSERVE_SERVER_STAMP)

kserve-server: $(KSERVE_SERVER_STAMP)  ## create .venv-kserve with KServe's model server (tests/serving)

# Headless Chromium for tests/playground: Debian's package, driven by Playwright (its own browser
# download cannot be reached). Instant when installed. An install that cannot happen (not root,
# no apt-get, apt-get failed) fails here, as the browser tests fail on CI without a browser:
# ZOO_SKIP_BROWSER=1 is the explicit opt-out (no install, the browser tests skip).
chromium:  ## install Debian's chromium for the browser tests (apt-get, as root; ZOO_SKIP_BROWSER=1 skips)
	@if [ "$${ZOO_SKIP_BROWSER:-}" = 1 ]; then \
	  echo "make chromium: ZOO_SKIP_BROWSER=1, no browser; the browser tests will skip" >&2; \
	elif ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (apt-get)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends chromium fonts-liberation) >/dev/null \
	      || { echo "make chromium: apt-get failed; set ZOO_SKIP_BROWSER=1 to run without the browser tests" >&2; exit 1; }; \
	  else \
	    echo "make chromium: installing chromium needs root and apt-get; set ZOO_SKIP_BROWSER=1 to run without the browser tests" >&2; \
	    exit 1; \
	  fi; \
	fi

# The TLS reverse proxy of tests/serving/test_serving_tls.py: Debian's nginx-light (HTTP/2, gRPC
# proxying, TLS). Instant when installed; without root or apt the TLS proxy tests skip.
nginx:  ## install Debian's nginx-light for the TLS proxy tests (apt-get, as root)
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing nginx-light (apt-get)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends nginx-light) >/dev/null \
	      || echo "make nginx: apt-get failed; the TLS proxy tests will skip" >&2; \
	  else \
	    echo "make nginx: not root or no apt-get; the TLS proxy tests will skip" >&2; \
	  fi; }

demo: setup  ## the main job, offline: pull → export → serve → generate → bench
	$(VENV)/bin/zoo demo

lint: setup
	$(VENV)/bin/ruff check zoo export serving tests scripts
	$(VENV)/bin/ruff format --check zoo export serving tests scripts
	$(VENV)/bin/lint-imports  # layer contracts in pyproject.toml ([tool.importlinter])

typecheck: setup
	$(VENV)/bin/mypy

# pytest exits 5 when it collected nothing: that fails too, with its own message.
test: lint typecheck $(OLAH_STAMP) $(KSERVE_STAMP) $(KSERVE_SERVER_STAMP) chromium nginx  ## lint, type-check and run the whole test suite
	$(PY) -m pytest -q -p no:cacheprovider --timeout=900 $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$rc

# What travels to a GPU machine with no network (scripts/build_gpu_bundle.py): the embedded
# Triton cut to what runs (xz) and cp312 wheels the device image lacks. Fails over 60 MiB, or
# when it and the working tree exceed the 64 MiB a device call carries. On the device:
# `python3 scripts/gpu_check.py --bundle .gpu-bundle --out "$$OUT"` (BENCHMARKS.md, GPU).
GPU_BUNDLE := .gpu-bundle

gpu-bundle: setup  ## build .gpu-bundle/ for scripts/gpu_check.py on a GPU machine (≤ 60 MiB)
	$(PY) scripts/build_gpu_bundle.py --out $(GPU_BUNDLE) --max-mib 60

# The wheel and the sdist a user installs (tests/packaging builds its own, in a temp folder).
dist: setup  ## build the wheel and the sdist into dist/ and check their metadata (twine)
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*

# After new weights (their sha256 changed): re-run `zoo eval` and rewrite each model's
# eval.json, samples.png and README.md (the model card) in zoo/weights/<name>/.
cards: setup  ## regenerate the metrics and model card of every trained model
	$(VENV)/bin/zoo card --all --eval

# Mutation testing of the torch-free core (docs/testing.md): the seed → latent rule, input
# validation, the wire format, the SDK's request building and error mapping, the config writer.
# mutmut mutates those functions (these mutant names) and runs the fast tests of
# [tool.mutmut] in pyproject.toml on each; about 30 min on 2 cores, so not part of `make test`.
MUTATION_SCOPE := \
  'zoo.latent.*' \
  'zoo.validation.*' \
  'zoo.pipeline.*' \
  'serving.server.wire.*' \
  'serving.client.requests.x_generate_request__*' \
  'serving.client.requests.x_check_images__*' \
  'serving.client.requests.x_check_masks__*' \
  'serving.client.requests.x_check_latents__*' \
  'serving.client.requests.x__require__*' \
  'serving.client.requests.x__label_input__*' \
  'serving.client.requests.x_split_batches__*' \
  'serving.client.requests.x_join_batches__*' \
  'serving.client.requests.x_resolve_model__*' \
  'serving.client.transport.x_parse_endpoint__*' \
  'serving.client.transport.x_outputs_of__*' \
  'serving.client.transport.x_map_error__*' \
  'serving.client.transport.x__unavailable__*' \
  'serving.client.clients.x__ready_names__*' \
  'serving.client.signature.xǁModelSignatureǁfrom_config__*' \
  'serving.client.signature.xǁModelSignatureǁfrom_metadata__*' \
  'zoo.errors.xǁModelNotFoundErrorǁ__str____*' \
  'serving.server.repository.xǁRepositoryOptionsǁ__post_init____*' \
  'serving.server.repository.x__pb__*' \
  'serving.server.repository.x__add_tensor__*' \
  'serving.server.repository.x__graph_tensor__*' \
  'serving.server.repository.x__common__*' \
  'serving.server.repository.x__params__*' \
  'serving.server.repository.x_embedded_config__*' \
  'serving.server.repository.x_native_configs__*' \
  'serving.server.repository.x_render_config__*' \
  'serving.server.repository.x_parse_config__*' \
  'serving.server.repository.x_model_configs__*' \
  'serving.server.repository.x_write_configs__*' \
  'serving.server.repository.x__remove_stale__*'

mutation: setup  ## mutation score of the torch-free core (docs/testing.md); fails under 85%
	rm -rf mutants
	@echo "mutmut run: progress in mutants/mutmut.log"
	@# A mutant that loses its out_dir writes to the default repository: point that at scratch
	@# space, or it would add folders to the tracked copy that later mutants are tested against.
	@mkdir -p mutants/scratch-repository && ZOO_MODEL_REPOSITORY=$(CURDIR)/mutants/scratch-repository \
	  $(VENV)/bin/mutmut run $(MUTATION_SCOPE) >mutants/mutmut.log 2>&1 \
	  || { tail -n 40 mutants/mutmut.log; exit 1; }
	@grep -a "mutations/second" mutants/mutmut.log || true
	$(PY) tests/mutation_report.py $(MUTATION_SCOPE)

clean:
	rm -rf $(VENV) .venv-olah .kserve-sdk .venv-kserve $(TYPINGS) $(GPU_BUNDLE) out dist .mypy_cache .ruff_cache mutants
