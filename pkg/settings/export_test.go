package settings

// ExpireLiveProxy makes p read the settings again at its next request, as it does after
// proxyRefresh.
func ExpireLiveProxy(p *LiveProxy) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.read = p.read.Add(-proxyRefresh)
}
