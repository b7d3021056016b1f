# dynoherd in a container: the Debian package built in Debian bookworm with the commands of
# docs/install.md, installed in bookworm-slim, whose apt brings the runtime libraries its Depends
# name and nothing else (no compiler, no test tools).
#
#   docker build -t dynoherd:0.1.0 .
#   docker run --rm -e HEROKU_API_KEY -v "$PWD/policies:/etc/dynoherd:ro" -p 9790:9790 \
#     dynoherd:0.1.0 run -f /etc/dynoherd/ --listen 0.0.0.0:9790
#
# The build stage's RUN lines are docs/install.md's package commands, in order (the clone is the
# COPY); the test deploy_recipes fails when they differ.

FROM debian:bookworm AS build
WORKDIR /src
# The packages first, in a layer of their own: it is rebuilt only when the list changes.
COPY tools/install-deps.sh tools/install-deps.sh
RUN bash tools/install-deps.sh package
COPY . .
# The image has no .git (.dockerignore): `--version` names the commit given here, else "unknown".
#   docker build --build-arg DYNOHERD_COMMIT=$(git rev-parse --short=12 HEAD) -t dynoherd:0.1.0 .
ARG DYNOHERD_COMMIT=
RUN make package

FROM debian:bookworm-slim AS runtime
# The package and what its Depends names: the shared libraries and CA certificates. The slim
# image's dpkg leaves out the package's documentation and man page.
COPY --from=build /src/build/dynoherd_*.deb /tmp/
RUN apt-get update \
 && apt-get install -y --no-install-recommends /tmp/dynoherd_*.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/dynoherd_*.deb
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/dynoherd \
      --shell /usr/sbin/nologin dynoherd \
 && install -d -o dynoherd -g dynoherd -m 0700 /var/lib/dynoherd
# The default state file becomes /var/lib/dynoherd/state.json: mount a volume there to keep it.
ENV XDG_STATE_HOME=/var/lib
USER 10001:10001
WORKDIR /var/lib/dynoherd
EXPOSE 9790
ENTRYPOINT ["/usr/bin/dynoherd"]
CMD ["--help"]
