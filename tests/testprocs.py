"""testprocs.py -- the processes a test starts, below tests/ringtest.py (the
servers) and used directly for the other programs tests run (client
programs, Chromium, netdelay): the record of the processes a test started,
stopping them by pid, free ports, polling, waiting until a server serves.

Every process a harness starts is track()ed and stopped by its pid:
stop_proc() by the test, and again at interpreter exit (atexit) and on
SIGTERM (exit_on_signals() adds others), so a failing or interrupted test
never leaves a server behind. Nothing is ever killed by name. on_cleanup(fn)
runs fn at exit before the processes are stopped (the fault suite removes
its iptables chain there).
"""
import atexit
import os
import random
import signal
import socket
import subprocess
import threading
import time

import redis

live = {}  # pid -> Popen of every process started and not yet reaped
_lock = threading.Lock()
_cleanups = []


def track(proc):
    """Records a process a test started, so it is stopped at exit too."""
    with _lock:
        live[proc.pid] = proc
    return proc


def forget(proc):
    """A tracked process that ended by itself (and was reaped)."""
    with _lock:
        live.pop(proc.pid, None)


def stop_proc(proc, sig=signal.SIGTERM, timeout=15.0):
    """Stops one process we started, by its pid: SIGCONT (a paused process
    cannot act on SIGTERM), sig, then SIGKILL after timeout. Returns its
    exit status."""
    try:
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGCONT)
                os.kill(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
    finally:
        forget(proc)
    return proc.returncode


def on_cleanup(fn):
    """fn() runs at exit, before the remaining processes are stopped."""
    _cleanups.append(fn)


def _cleanup_all():
    for fn in _cleanups:
        try:
            fn()
        except Exception as e:  # keep going: processes must still be stopped
            print("cleanup %r failed: %r" % (fn, e), flush=True)
    with _lock:
        procs = list(live.values())
    for p in procs:
        try:
            stop_proc(p, signal.SIGKILL, timeout=5)
        except Exception:
            pass


atexit.register(_cleanup_all)


def _on_signal(signum, frame):
    raise SystemExit(128 + signum)  # runs finally blocks, then atexit


def exit_on_signals(*sigs):
    """These signals end the test run like SIGTERM does (stopping everything)."""
    for s in sigs:
        try:
            signal.signal(s, _on_signal)
        except ValueError:  # not the main thread
            pass


exit_on_signals(signal.SIGTERM)


def port_free(host, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port(host, taken=()):
    """A client port P, with P+10000 for the cluster bus, both free on host a
    moment ago. Both lie below the kernel's ephemeral range (32768+), so
    outgoing connections never take them meanwhile."""
    for _ in range(1000):
        p = random.randrange(12000, 22000)
        if p not in taken and port_free(host, p) and port_free(host, p + 10000):
            return p
    raise RuntimeError("no free port pair on %s" % host)


def wait_until(fn, timeout=10.0, what="condition", interval=0.05):
    """Polls fn() until it returns a truthy value (returned); errors from fn
    count as false. AssertionError after timeout."""
    deadline = time.time() + timeout
    last = None
    while True:
        try:
            v = fn()
            if v:
                return v
            last = v
        except (redis.RedisError, OSError, AssertionError, ValueError) as e:
            last = e
        if time.time() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" %
                                 (timeout, what, last))
        time.sleep(interval)


class EarlyExit(RuntimeError):
    """A server exited while starting."""


def disconnect(c):
    """Closes every connection of the redis.Redis c now. (Its close() only
    puts the connection back in its pool, which closes it when collected:
    a server then still counts it, e.g. against maxclients.)"""
    c.connection_pool.disconnect()


def wait_serving(proc, host, port, timeout, what, log_tail=lambda: "", password=None):
    """Waits until the server proc answers on host:port as itself (INFO
    process_id: not another process holding the port; AUTH with password
    first if given). Raises EarlyExit (with log_tail()) if it exits first;
    kills it (SIGKILL, by pid) and raises RuntimeError if it does not answer
    within timeout. what names it."""
    deadline = time.time() + timeout
    last = "no answer"
    while time.time() < deadline:
        if proc.poll() is not None:
            forget(proc)
            raise EarlyExit("%s exited with %s during startup:\n%s" %
                            (what, proc.returncode, log_tail()))
        try:
            c = redis.Redis(host=host, port=port, socket_timeout=2, socket_connect_timeout=2,
                            password=password)
            try:
                pid = c.info("server").get("process_id")
                if pid == proc.pid:
                    return
                last = "process_id %r" % pid
            finally:
                disconnect(c)
        except (redis.RedisError, OSError) as e:
            last = e
        time.sleep(0.05)
    stop_proc(proc, signal.SIGKILL, timeout=5)
    raise RuntimeError("%s did not answer within %ss (%r)" % (what, timeout, last))


def log_tail(label, paths, n=3000):
    """The last n bytes of each non-empty file of paths, headed by label and
    the file's name: for a failure message."""
    out = ""
    for p in paths:
        if os.path.exists(p):
            with open(p, "rb") as f:
                data = f.read()
            if data:
                out += "--- %s %s ---\n%s\n" % (label, os.path.basename(p),
                                                data[-n:].decode("utf-8", "replace"))
    return out
