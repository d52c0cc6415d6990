package kontortest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is built once per test process.
var binary struct {
	once sync.Once
	path string
	err  error
}

// Binary builds cmd/kontor once and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "kontor-bin-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "kontor")
		cmd := exec.Command("go", "build", "-o", binary.path, "github.com/kontor-chat/kontor/cmd/kontor")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// Process is a `kontor serve` running as its own process.
type Process struct {
	URL, WS, DataDir, Addr string
	Args                   []string
	t                      testing.TB
	cmd                    *exec.Cmd
	log                    *syncBuffer
	done                   chan struct{}
	exit                   error
}

// StartProcess runs `kontor serve --dev` on a free loopback port with the
// extra args, waits until it is ready, and kills it when the test ends.
// --dev lets media links and webhook URLs reach loopback (Loopback) unless
// args give --allow-networks. dataDir "" makes a fresh one.
func StartProcess(t testing.TB, dataDir string, args ...string) *Process {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	addr := FreeAddr(t)
	p := &Process{URL: "http://" + addr, WS: "ws://" + addr + "/v1/ws", DataDir: dataDir, Addr: addr, t: t,
		Args: append([]string{"serve", "--dev", "--data", dataDir, "--http", addr, "--log-level", "warn"}, args...)}
	p.start()
	t.Cleanup(func() { p.Kill() })
	return p
}

// Restart starts the process again with the same arguments (after a stop).
func (p *Process) Restart() {
	p.t.Helper()
	p.start()
}

func (p *Process) start() {
	p.t.Helper()
	p.cmd = exec.Command(Binary(p.t), p.Args...)
	p.log = &syncBuffer{}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.Env = append(os.Environ(), "KONTOR_OPERATOR_TOKEN=") // each data dir keeps its own
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("starting kontor: %v", err)
	}
	p.done = make(chan struct{})
	go func() {
		p.exit = p.cmd.Wait()
		close(p.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			p.t.Fatalf("kontor exited during start: %v\n%s", p.exit, p.log.String())
		default:
		}
		resp, err := http.Get(p.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("kontor did not become ready in 30 s\n%s", p.log.String())
}

// Token returns the operator credential from the data directory.
func (p *Process) Token() string {
	b, err := os.ReadFile(filepath.Join(p.DataDir, "operator.token"))
	if err != nil {
		p.t.Fatal(err)
	}
	return string(bytes.TrimSpace(b))
}

// Signal sends sig and waits (up to 30 s) for the process to exit; it
// returns the exit error (nil for exit code 0).
func (p *Process) Signal(sig syscall.Signal) error {
	p.t.Helper()
	if p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	select {
	case <-p.done:
		return p.exit
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return p.exit
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("kontor did not exit within 30 s of %v\n%s", sig, p.log.String())
		return nil
	}
}

// Kill ends the process with SIGKILL if it still runs.
func (p *Process) Kill() { _ = p.Signal(syscall.SIGKILL) }

// Log returns what the process printed.
func (p *Process) Log() string { return p.log.String() }

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
