# The Tandem image docker-compose.yml builds (api, relay and receiver run it).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml ./
COPY domain domain
COPY projections projections
COPY adapters adapters
COPY api api
RUN pip install --no-cache-dir . \
    && useradd --system --create-home tandem \
    && mkdir /data && chown tandem /data
USER tandem
ENV TANDEM_DATA_DIR=/data
EXPOSE 8000
CMD ["tandem", "serve", "--host", "0.0.0.0"]
