package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// step is a browser action without a result (chromedp v0.23's Action[Void]).
type step = chromedp.Action[chromedp.Void]

// browser is a headless Chromium tab.
type browser struct {
	t         *testing.T
	ctx       context.Context
	base, dir string
}

// chromium finds Debian's chromium (hack/install-packages.sh installs it).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on PATH: run hack/install-packages.sh (make packages)")
	return ""
}

// newBrowser starts Chromium with a fresh profile and the flags that keep it from calling
// Google's hosts (this network has none, and it would wait for them).
func newBrowser(ctx context.Context, t *testing.T, base, artifacts string) *browser {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		// The console's certificate is self-signed (config/console mounts none).
		chromedp.IgnoreCertErrors,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first run starts the browser, with no timeout of its own (see chromedp.Run).
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: bctx, base: base, dir: artifacts}
}

// run runs steps, failing the test with what, a screenshot and the page when one fails.
func (b *browser) run(what string, timeout time.Duration, steps ...step) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.screenshot("failed-" + what)
		html, _ := get(b, chromedp.OuterHTML(chromedp.CSS("main")))
		b.t.Fatalf("%s: %v\npage:\n%s", what, err, html)
	}
}

// get runs an action with a result.
func get[T any](b *browser, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// screenshot saves the whole page as name.png (quality 100 makes Chromium encode PNG).
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil { //nolint:gosec // a screenshot for review.
		b.t.Errorf("save %s: %v", path, err)
	}
}

// visit opens a path of the console.
func (b *browser) visit(path string) step { return chromedp.Navigate(b.base + path) }

// fill types value into the field sel: focused, cleared, then typed as keys.
func fill(sel, value string) step {
	return chromedp.Steps(setValue(sel, ""), chromedp.Focus(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), value))
}

// setValue sets a field's, a text area's or a select's value as a script would, and fires
// the input and change events typing fires (long values such as PEM bundles type slowly).
func setValue(sel, value string) step {
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = %s;
		e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return true })()`,
		jsString(sel), jsString(value))
	return chromedp.Steps(waitFor(sel), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](js)(ctx, t)
		return err
	}))
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitFor waits until sel matches a visible element (a live region may put it there).
func waitFor(sel string) step { return chromedp.WaitVisible(chromedp.CSS(sel)) }

func click(sel string) step { return chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible) }

// try runs steps within timeout and reports whether they all succeeded, without failing the
// test: for steps a user would simply do again.
func (b *browser) try(timeout time.Duration, steps ...step) bool {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	return chromedp.Do(ctx, steps...) == nil
}
