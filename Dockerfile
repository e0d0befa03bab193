# Refluxo BPM service image: `bpm serve` (granian) by default; `bpm db upgrade` migrates.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY bpm ./bpm
COPY bench ./bench
COPY migrations ./migrations
COPY forms ./forms
COPY calendars ./calendars
COPY processes ./processes
COPY templates ./templates
# A real install, as from the wheel: templates, migrations, forms, calendars and processes travel inside it.
RUN pip install . && rm -rf build && useradd --create-home bpm
USER bpm

ENV BPM_HOST=0.0.0.0 BPM_PORT=5000
EXPOSE 5000
CMD ["bpm", "serve"]
