# dynoherd in a container: built in Debian bookworm with the build commands of docs/install.md,
# run from bookworm-slim with the runtime libraries only.
#
#   docker build -t dynoherd:0.1.0 .
#   docker run --rm -e HEROKU_API_KEY -v "$PWD/policies:/etc/dynoherd:ro" -p 9790:9790 \
#     dynoherd:0.1.0 run -f /etc/dynoherd/ --listen 0.0.0.0:9790
#
# The build stage's RUN lines are docs/install.md's build commands, in order (the clone is the
# COPY); the test deploy_recipes fails when they differ.

FROM debian:bookworm AS build
WORKDIR /src
# The packages first, in a layer of their own: it is rebuilt only when the list changes.
COPY tools/install-deps.sh tools/install-deps.sh
RUN bash tools/install-deps.sh
COPY . .
RUN make build
RUN install -s -m 0755 build/dynoherd /usr/local/bin/dynoherd

FROM debian:bookworm-slim AS runtime
# The Debian packages of the shared libraries build/dynoherd links (ldd), plus CA certificates
# for HTTPS. libc6, libstdc++6 and libgcc-s1 are in the base image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libcpp-httplib0.11 libcurl4 libfmt9 libprometheus-cpp-core1.0 libyaml-cpp0.7 \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/dynoherd \
      --shell /usr/sbin/nologin dynoherd \
 && install -d -o dynoherd -g dynoherd -m 0700 /var/lib/dynoherd
COPY --from=build /usr/local/bin/dynoherd /usr/local/bin/dynoherd
# The default state file becomes /var/lib/dynoherd/state.json: mount a volume there to keep it.
ENV XDG_STATE_HOME=/var/lib
USER 10001:10001
WORKDIR /var/lib/dynoherd
EXPOSE 9790
ENTRYPOINT ["/usr/local/bin/dynoherd"]
CMD ["--help"]
