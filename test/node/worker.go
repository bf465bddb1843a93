package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

const (
	// Restart backoff: 1 s doubling to 30 s (the kubelet's is 10 s to 5 min; tests would wait
	// too long).
	backoffBase = time.Second
	backoffMax  = 30 * time.Second
	// backoffReset is how long a run must last for the next crash to start the backoff over
	// (the kubelet forgets a container's backoff after it ran 10 minutes; tests kill
	// operators every few seconds on purpose and need not wait 30 s each time).
	backoffReset = 10 * time.Second
	// retryInterval is how often a pod waiting for a volume source retries.
	retryInterval = time.Second
	// killWait bounds how long SIGKILLed processes may take to be reaped.
	killWait = 10 * time.Second
)

// podWorker owns one pod from the moment it is bound to the node until its object is deleted:
// it builds the sandbox and volumes, runs init containers in order and then the containers,
// restarts them per restartPolicy, writes the pod's status, and carries out deletion.
type podWorker struct {
	n   *Node
	uid types.UID
	key string
	dir string

	changed chan struct{} // the pod object changed (buffered, coalescing)
	gone    chan struct{} // the pod object was removed from the API
	exits   chan *ctrState
	ended   chan struct{}

	goneOnce sync.Once

	mu         sync.Mutex
	pod        *corev1.Pod
	sb         *sandbox
	ip         string // the pod IP, kept in status after the sandbox is gone
	startTime  metav1.Time
	vols       map[string]volume
	waitMsg    string // why containers are not created yet
	initDone   bool
	initFailed bool
	ctrs       map[string]*ctrState
	published  *corev1.PodStatus
}

// ctrState is what the worker knows of one container.
type ctrState struct {
	name     string
	init     bool
	spec     corev1.Container
	restarts int32 // restarts so far; the current (or next) run's log is logs/<name>/<restarts>.log
	crashes  int32 // runs in a row that ended within backoffReset: the restart backoff's exponent
	proc     *process
	ran      bool                             // started at least once
	last     *corev1.ContainerStateTerminated // the current run's end, once it ended
	previous *corev1.ContainerStateTerminated // the run before
	// When the container is not running: why it waits, and when it may start again.
	waitReason, waitMsg string
	retryAt             time.Time
	// image is the current run's image as Options.Images resolved it; nil when the node
	// does not pull it. pullFailures counts failed pulls in a row (their backoff's
	// exponent), pullErr is the last one's error, and backOffAt is when ErrImagePull turns
	// into ImagePullBackOff.
	image *ResolvedImage
	// termination is the host file the current run's terminationMessagePath is bound to.
	termination  string
	pullFailures int32
	pullErr      string
	backOffAt    time.Time
}

func newPodWorker(n *Node, pod *corev1.Pod) *podWorker {
	w := &podWorker{
		n: n, uid: pod.UID, key: pod.Namespace + "/" + pod.Name, dir: n.podDir(pod.UID), pod: pod,
		changed: make(chan struct{}, 1), gone: make(chan struct{}), exits: make(chan *ctrState), ended: make(chan struct{}),
		startTime: metav1.Now(), ctrs: map[string]*ctrState{},
	}
	for _, c := range pod.Spec.InitContainers {
		w.ctrs[c.Name] = &ctrState{name: c.Name, init: true, spec: c}
	}
	for _, c := range pod.Spec.Containers {
		w.ctrs[c.Name] = &ctrState{name: c.Name, spec: c}
	}
	return w
}

func (w *podWorker) update(pod *corev1.Pod) {
	w.mu.Lock()
	w.pod = pod
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

func (w *podWorker) markGone() { w.goneOnce.Do(func() { close(w.gone) }) }

func (w *podWorker) current() *corev1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod
}

func (w *podWorker) deleting() bool { return w.current().DeletionTimestamp != nil }

func (w *podWorker) isGone() bool {
	select {
	case <-w.gone:
		return true
	default:
		return false
	}
}

// stopped reports whether the worker must stop running containers: node stopping, pod being
// deleted or already gone.
func (w *podWorker) stopped() bool { return w.n.ctx.Err() != nil || w.isGone() || w.deleting() }

// sleep waits d or until something happens that may end the pod; it reports whether the
// worker should go on.
func (w *podWorker) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-w.changed:
	case <-w.gone:
	case <-w.n.ctx.Done():
	}
	return !w.stopped()
}

func (w *podWorker) run() {
	defer w.n.forget(w)
	defer close(w.ended)
	w.publish()
	if w.prepare() {
		w.loop()
	}
	w.terminate()
}

// prepare builds the sandbox and the volumes, retrying until they exist or the pod ends.
func (w *podWorker) prepare() bool {
	for !w.stopped() {
		if err := w.prepareOnce(); err != nil {
			var notReady *errNotReady
			w.mu.Lock()
			if !errors.As(err, &notReady) && w.waitMsg != err.Error() {
				w.n.logf("process node %s: pod %s: %v", w.n.name, w.key, err)
			}
			w.waitMsg = err.Error()
			w.mu.Unlock()
			w.publish()
			if !w.sleep(retryInterval) {
				return false
			}
			continue
		}
		w.mu.Lock()
		w.waitMsg = ""
		w.mu.Unlock()
		return true
	}
	return false
}

func (w *podWorker) prepareOnce() error {
	ctx, cancel := context.WithTimeout(w.n.ctx, apiTimeout)
	defer cancel()
	if w.sb == nil {
		for _, sub := range []string{"volumes", "logs", "containers"} {
			if err := os.MkdirAll(filepath.Join(w.dir, sub), 0o755); err != nil {
				return err
			}
		}
		sb, err := w.n.createSandbox(ctx, w.current())
		if err != nil {
			return fmt.Errorf("pod network: %w", err)
		}
		w.mu.Lock()
		w.sb, w.ip = sb, sb.ip
		w.mu.Unlock()
		w.publish()
	}
	vols, err := w.n.prepareVolumes(ctx, w.current(), filepath.Join(w.dir, "volumes"))
	if err != nil {
		return err
	}
	w.vols = vols
	return nil
}

// loop runs the containers until the pod is deleted, gone, or the node stops.
func (w *podWorker) loop() {
	for !w.stopped() {
		next := w.startDue()
		w.publish()
		if w.finished() {
			// Nothing will run again: free the network, keep the logs until deletion.
			w.releaseSandbox()
			for w.sleep(time.Hour) {
			}
			return
		}
		w.wait(next)
	}
}

// wait blocks until a container exits, the pod changes or ends, or next (if set) comes.
func (w *podWorker) wait(next time.Time) {
	var timer <-chan time.Time
	if !next.IsZero() {
		t := time.NewTimer(time.Until(next))
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-w.n.ctx.Done():
	case <-w.changed:
	case <-w.gone:
	case c := <-w.exits:
		w.exited(c)
	case <-timer:
	}
}

// startDue starts what may run now: the first unfinished init container, or, once they have
// all succeeded, every container not running whose (re)start time has come. It returns the
// earliest later time something is due.
func (w *podWorker) startDue() time.Time {
	pod := w.current()
	var next time.Time
	later := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	due := func(c *ctrState) bool {
		if c.proc != nil && c.proc.running() {
			return false
		}
		w.mu.Lock()
		later(c.pullBackOff(time.Now()))
		w.mu.Unlock()
		if c.ran && c.retryAt.IsZero() {
			return false // finished for good
		}
		if !c.retryAt.IsZero() && time.Now().Before(c.retryAt) {
			later(c.retryAt)
			return false
		}
		return true
	}
	// run starts c and takes in when it is due again if it could not start (a failed pull).
	run := func(c *ctrState) {
		w.start(c)
		w.mu.Lock()
		defer w.mu.Unlock()
		if c.proc == nil {
			later(c.backOffAt)
			if c.retryAt.After(time.Now()) {
				later(c.retryAt)
			}
		}
	}
	if !w.initDone {
		for _, spec := range pod.Spec.InitContainers {
			c := w.ctrs[spec.Name]
			if c.ran && c.last != nil && c.last.ExitCode == 0 {
				continue
			}
			if !w.initFailed && due(c) {
				run(c)
			}
			return next
		}
		w.mu.Lock()
		w.initDone = true
		w.mu.Unlock()
	}
	for _, spec := range pod.Spec.Containers {
		if c := w.ctrs[spec.Name]; due(c) {
			run(c)
		}
	}
	return next
}

// start runs a container once; a container that cannot start is treated as one that exited.
func (w *podWorker) start(c *ctrState) {
	if !w.pull(c) {
		return
	}
	pod := w.current()
	ctx, cancel := context.WithTimeout(w.n.ctx, apiTimeout)
	defer cancel()
	env, err := w.n.containerEnv(ctx, pod, &c.spec)
	if err != nil {
		w.mu.Lock()
		c.waitReason, c.waitMsg = "CreateContainerConfigError", err.Error()
		c.retryAt = time.Now().Add(backoff(c.restarts))
		w.mu.Unlock()
		return
	}
	spec, err := w.launchSpec(pod, c, env)
	w.mu.Lock()
	if c.ran {
		c.restarts++
		c.previous = c.last
	}
	c.ran, c.last, c.retryAt, c.waitReason, c.waitMsg = true, nil, time.Time{}, "", ""
	restarts := c.restarts
	w.mu.Unlock()
	logPath := w.logPath(c.name, restarts)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(logPath), 0o755)
	}
	var p *process
	if err == nil {
		p, err = startProcess(spec, logPath)
	}
	if err != nil {
		now := metav1.Now()
		w.ended1(c, &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: err.Error(), StartedAt: now, FinishedAt: now})
		return
	}
	w.mu.Lock()
	c.proc = p
	w.mu.Unlock()
	go func() {
		<-p.done
		select {
		case w.exits <- c:
		case <-w.ended:
		}
	}()
}

// launchSpec turns a container into what the helper needs.
func (w *podWorker) launchSpec(pod *corev1.Pod, c *ctrState, env []string) (*launchSpec, error) {
	vals := envMap(env)
	command, args := c.spec.Command, c.spec.Args
	switch {
	case len(command) > 0:
	case c.image != nil:
		// A runtime's rule: the image's ENTRYPOINT, then the container's args, or the
		// image's CMD when there are none.
		command = c.image.Entrypoint
		if len(args) == 0 {
			args = c.image.Cmd
		}
	default:
		command = w.n.entrypoints[c.spec.Image]
	}
	if bin, ok := w.n.commands[firstOf(command)]; ok && c.image == nil {
		command = append([]string{bin}, command[1:]...)
	}
	argv := make([]string, 0, len(command)+len(args))
	for _, a := range append(append([]string(nil), command...), args...) {
		argv = append(argv, expand(a, vals))
	}
	var mounts []mountSpec
	for _, m := range c.spec.VolumeMounts {
		v, ok := w.vols[m.Name]
		if !ok {
			return nil, fmt.Errorf("volume mount %s: no volume %q", m.MountPath, m.Name)
		}
		source := v.path
		sub := m.SubPath
		if m.SubPathExpr != "" {
			sub = expand(m.SubPathExpr, vals)
		}
		if sub != "" {
			source = filepath.Join(v.path, sub)
			if _, err := os.Stat(source); os.IsNotExist(err) {
				if err := os.MkdirAll(source, 0o755); err != nil {
					return nil, err
				}
			}
		}
		mounts = append(mounts, mountSpec{Source: source, Target: m.MountPath, ReadOnly: v.readOnly || m.ReadOnly})
	}
	if v, ok := w.vols[autoTokenVolume]; ok {
		mounts = append(mounts, mountSpec{Source: v.path, Target: serviceAccountDir, ReadOnly: true})
	}
	dir := filepath.Join(w.dir, "containers", c.name+"-"+strconv.Itoa(int(c.restarts)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" + w.sb.ip + "\t" + pod.Name + "\n" + w.n.hosts.lines()
	var imageUser *int64
	if u, ok := w.n.imageUsers[c.spec.Image]; ok {
		imageUser = &u
	}
	if c.image != nil {
		imageUser = c.image.User
	}
	user, err := containerIdentity(pod, &c.spec, imageUser)
	if err != nil {
		return nil, err
	}
	termination, err := terminationFile(dir, &c.spec)
	if err != nil {
		return nil, err
	}
	mounts = append(mounts, termination)
	c.termination = termination.Source
	spec := &launchSpec{
		Netns: netnsDir + "/" + w.sb.ns, Hostname: pod.Name, Dir: dir, Hosts: hosts,
		Mounts: mounts, WorkingDir: c.spec.WorkingDir, Argv: argv, Env: env, User: user,
	}
	if c.image != nil {
		spec.Rootfs = c.image.rootfs
	}
	if spec.Rootfs == "" && c.spec.SecurityContext != nil && ptr.Deref(c.spec.SecurityContext.Privileged, false) {
		spec.Shared = w.n.sharedDirs
	}
	return spec, nil
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// exited records the end of a container's run.
func (w *podWorker) exited(c *ctrState) {
	p := c.proc
	reason := "Completed"
	if p.exitCode != 0 {
		reason = "Error"
	}
	w.ended1(c, &corev1.ContainerStateTerminated{ExitCode: int32(p.exitCode), Reason: reason,
		Message: w.terminationMessage(c, p.exitCode), StartedAt: metav1.NewTime(p.started), FinishedAt: metav1.NewTime(p.finished)})
}

// ended1 records a run's end and decides, per restartPolicy, whether and when it runs again.
func (w *podWorker) ended1(c *ctrState, t *corev1.ContainerStateTerminated) {
	pod := w.current()
	w.mu.Lock()
	defer w.mu.Unlock()
	c.proc, c.last = nil, t
	policy := pod.Spec.RestartPolicy
	var restart bool
	switch {
	case c.init:
		// Init containers restart on failure unless the pod never restarts anything.
		restart = t.ExitCode != 0 && policy != corev1.RestartPolicyNever
		w.initFailed = t.ExitCode != 0 && !restart
	case policy == corev1.RestartPolicyNever:
	case policy == corev1.RestartPolicyOnFailure:
		restart = t.ExitCode != 0
	default:
		restart = true
	}
	if t.FinishedAt.Sub(t.StartedAt.Time) >= backoffReset {
		c.crashes = 0
	}
	if restart {
		c.retryAt = time.Now().Add(backoff(c.crashes))
		c.crashes++
		c.waitReason = "CrashLoopBackOff"
		c.waitMsg = fmt.Sprintf("back-off restarting failed container %s in pod %s", c.name, w.key)
	}
}

func backoff(crashes int32) time.Duration {
	d := backoffBase
	for i := int32(0); i < crashes && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

// finished reports whether nothing of the pod will run again.
func (w *podWorker) finished() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.initFailed {
		return true
	}
	if !w.initDone {
		return false
	}
	for _, c := range w.ctrs {
		if c.init {
			continue
		}
		// A process whose exit the loop has not taken in yet counts as running.
		if !c.ran || c.proc != nil || !c.retryAt.IsZero() {
			return false
		}
	}
	return true
}

// terminate ends the pod: on deletion SIGTERM, then SIGKILL after the grace period, then the
// pod object is deleted; when the node stops or the object is already gone, SIGKILL at once.
func (w *podWorker) terminate() {
	graceful := w.n.ctx.Err() == nil && !w.isGone() && w.deleting()
	var grace time.Duration
	if graceful {
		pod := w.current()
		secs := int64(corev1.DefaultTerminationGracePeriodSeconds)
		switch {
		case pod.DeletionGracePeriodSeconds != nil:
			secs = *pod.DeletionGracePeriodSeconds
		case pod.Spec.TerminationGracePeriodSeconds != nil:
			secs = *pod.Spec.TerminationGracePeriodSeconds
		}
		grace = time.Duration(secs) * time.Second
	}
	w.mu.Lock()
	var procs []*process
	for _, c := range w.ctrs {
		if c.proc != nil && c.proc.running() {
			procs = append(procs, c.proc)
		}
	}
	w.mu.Unlock()
	sig := syscall.SIGKILL
	if grace > 0 {
		sig = syscall.SIGTERM
	}
	for _, p := range procs {
		p.signal(sig)
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	for _, p := range procs {
		select {
		case <-p.done:
		case <-deadline.C:
			for _, q := range procs {
				q.signal(syscall.SIGKILL)
			}
			select {
			case <-p.done:
			case <-time.After(killWait):
			}
		case <-w.gone:
			for _, q := range procs {
				q.signal(syscall.SIGKILL)
			}
		case <-w.n.ctx.Done():
			// The node stops: no more grace.
			for _, q := range procs {
				q.signal(syscall.SIGKILL)
			}
		}
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(killWait):
			w.n.logf("process node %s: pod %s: process %d did not die", w.n.name, w.key, p.pid)
		}
	}
	w.releaseSandbox()
	if graceful {
		w.n.deletePod(w.current())
	}
	if err := os.RemoveAll(w.dir); err != nil {
		w.n.logf("process node %s: pod %s: %v", w.n.name, w.key, err)
	}
}

func (w *podWorker) releaseSandbox() {
	w.mu.Lock()
	sb := w.sb
	w.sb = nil
	w.mu.Unlock()
	if sb == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	w.n.destroySandbox(ctx, w.uid, sb)
}

func (w *podWorker) logPath(container string, run int32) string {
	return filepath.Join(w.dir, "logs", container, strconv.Itoa(int(run))+".log")
}

// pid returns the host PID of a running container.
func (w *podWorker) pid(container string) (int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.ctrs[container]
	if c == nil || c.proc == nil || !c.proc.running() {
		return 0, false
	}
	return c.proc.pid, true
}
