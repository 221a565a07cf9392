# Conveniences; the README's two commands need none of this.
.PHONY: test bench-ingest bench-pages generate

test:
	go test ./...

# Sustained durable ingest vs a bare Fiber handler, then with 1,000,000 events stored.
bench-ingest:
	scripts/bench-ingest.sh

generate:
	go tool templ fmt views
	go tool templ generate
