// Package browsertest starts Debian's headless Chromium for end-to-end tests,
// with no network but loopback, and saves screenshots as test artifacts.
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumEnv overrides where Chromium is found.
const ChromiumEnv = "SMILEDASH_CHROMIUM"

// ArtifactsEnv names the folder screenshots are written to.
const ArtifactsEnv = "SMILEDASH_ARTIFACTS_DIR"

// New starts a headless Chromium and returns a chromedp context for one tab,
// bounded by timeout. Without Chromium the test is skipped with instructions.
func New(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	path := os.Getenv(ChromiumEnv)
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("browser test skipped: no Chromium at %s (apt-get install chromium, or set %s); .ci/run installs it", path, ChromiumEnv)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelTab := chromedp.NewContext(allocCtx)
	// The first Run starts the browser; it must not carry the timeout, or the
	// timeout would stop the browser itself (see chromedp.Run).
	if err := chromedp.Do(browserCtx); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(browserCtx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// Screenshot saves a full-page PNG named name into the artifacts folder
// ($SMILEDASH_ARTIFACTS_DIR, or a temp folder) and returns its path.
func Screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 gives PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	return saveArtifact(t, name, png)
}

// ElementScreenshot saves a PNG of the first element matching the CSS
// selector, named name, as Screenshot does.
func ElementScreenshot(t *testing.T, ctx context.Context, name, selector string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(selector)))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	return saveArtifact(t, name, png)
}

func saveArtifact(t *testing.T, name string, png []byte) string {
	t.Helper()
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "smiledash-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	file := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
	t.Logf("screenshot: %s", file)
	return file
}
