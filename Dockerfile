# The service's image: `timeline` on a slim Python, run as a user that owns none of the code
# it runs. One image for every role of compose.yaml: `timeline migrate`, `timeline serve`,
# `timeline project`. It expects TIMELINE_DATABASE_URL (the embedded PostgreSQL is for a
# laptop, not a container).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/timeline
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY domain domain
COPY store store
COPY application application
COPY seed seed
COPY projections projections
COPY api api
COPY cli cli
COPY migrations migrations
COPY bench bench
RUN /opt/timeline/bin/pip install .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin timeline
COPY --from=build /opt/timeline /opt/timeline
ENV PATH=/opt/timeline/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TIMELINE_LOG_FORMAT=json
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
ENTRYPOINT ["timeline"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
