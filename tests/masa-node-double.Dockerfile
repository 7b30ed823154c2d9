# TEST DOUBLE of masa-node's HTTP API (tests/masa_node_double.py), built by molecule's create.yml
# where masa-node cannot be built. Never deployed by the playbooks; its label says what it is.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY masa_node_double.py /usr/local/bin/masa-node-double
LABEL io.masa.test-double="masa-node v0.8.9 HTTP API, for tests only"
USER 1000:1000
ENTRYPOINT ["python3", "/usr/local/bin/masa-node-double"]
