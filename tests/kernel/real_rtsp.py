"""The `rtsp` subset of test_real_apps.py: GStreamer's RTSP server and client through pinhole
firewalls on both ends, the media ports read from the SETUP exchange by pinholed.

The server (gst-rtsp-server through python3-gi, `audiotestsrc ! rtpL16pay`, UDP only) runs in
the fw namespace behind `allow rtsp server;`, the client (rtspsrc protocols=udp, so it cannot
fall back to RTP interleaved in the TCP connection, counting the RTP buffers it receives) in
the peer namespace behind `allow rtsp client;`. Per family, IPv4 and IPv6:

- without a firewall the client receives the stream (and a third namespace, wired to the
  client, reaches the client over UDP: the routing the later drop relies on works);
- firewalls, no pinholed: RTSP itself passes, the media (UDP to the client_port pair the
  SETUP named) are dropped, 0 buffers;
- `negotiated static;`: the scoped static fallback carries the stream without pinholed;
- pinholed on both ends: the stream flows; the client's set holds server . client . udp .
  client_port, the server's the same pair from its side, and both hold the server_port pair
  (RTCP from the client); while the stream runs, UDP from the third namespace to the client's
  media port is dropped (the probe table sees the server's packets to that port, not the
  third party's);
- after the client's TEARDOWN its control connection ends (conntrack forgets it after
  TIME_WAIT, shortened to 2 s inside these namespaces so the test need not wait 120 s) and
  pinholed deletes the pinholes on both ends: the sets are empty.

The `realplayer` subset runs the same software behind `allow realplayer server;` and
`allow realplayer client;` (stdlib-apps/realplayer.pin: its flow rtsp is RTSP's control
connection, flow data-rtsp the data the SETUP reply's client_port names, with no RTCP flow):
blocked without pinholed (rtspsrc's ports are ephemeral, not the guide's 7000 or 6970); with
`negotiated static;` the stream passes when rtspsrc receives on the guide's port 7000
(port-range=7000-7001); with pinholed on both ends the sets hold the exact pinhole, the
stream passes, the third party's UDP to the port is dropped, and TEARDOWN closes it.
"""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsnet as N  # noqa: E402

PY = "/usr/bin/python3"   # python3-gi is Debian's: the system interpreter
PACKAGES = ["gir1.2-gst-rtsp-server-1.0", "gstreamer1.0-plugins-base", "gstreamer1.0-plugins-good",
            "python3-gi"]

SERVER = r'''
import sys, gi
gi.require_version("Gst", "1.0"); gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtsp, GstRtspServer, GLib
Gst.init(None)
s = GstRtspServer.RTSPServer()
s.set_address(sys.argv[1])
s.set_service(sys.argv[2])
f = GstRtspServer.RTSPMediaFactory()
f.set_launch("( audiotestsrc is-live=true ! audio/x-raw,rate=8000,channels=1 ! audioconvert "
             "! rtpL16pay name=pay0 pt=96 )")
f.set_protocols(GstRtsp.RTSPLowerTrans.UDP)   # media over UDP only, never interleaved
s.get_mount_points().add_factory("/test", f)
if not s.attach(None):
    sys.exit("cannot listen")
print("listening", flush=True)
GLib.MainLoop().run()
'''

# Receives until `want` RTP buffers arrived or `limit` seconds passed, then stops the pipeline
# (rtspsrc sends TEARDOWN) and prints rtspsrc's progress, how many arrived and the first error.
CLIENT = r'''
import sys, gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst, GLib
Gst.init(None)
url, want, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
p = Gst.parse_launch("rtspsrc name=src protocols=udp latency=0 ! fakesink name=sink "
                     "signal-handoffs=true sync=false")
p.get_by_name("src").set_property("location", url)
if len(sys.argv) > 4:   # the client ports (RTP, RTCP) rtspsrc offers in its SETUP
    p.get_by_name("src").set_property("port-range", sys.argv[4])
loop, n, err = GLib.MainLoop(), [0], []
def handoff(*a):
    n[0] += 1
    if n[0] == want:
        GLib.idle_add(loop.quit)
p.get_by_name("sink").connect("handoff", handoff)
def on_msg(bus, m):
    if m.type == Gst.MessageType.PROGRESS:   # rtspsrc's steps: "Sent PLAY request", ...
        print("progress:", m.parse_progress()[2], flush=True)
    elif m.type == Gst.MessageType.ERROR:
        e, dbg = m.parse_error()
        err.append(f"{e.message} ({dbg})")
        loop.quit()
bus = p.get_bus(); bus.add_signal_watch(); bus.connect("message", on_msg)
GLib.timeout_add(int(limit * 1000), loop.quit)
p.set_state(Gst.State.PLAYING)
loop.run()
p.set_state(Gst.State.NULL)
print("buffers", n[0], flush=True)
if err:
    print("error:", err[0], flush=True)
'''

# The client's second interface and the third namespace behind it.
THIRD = {"v4": ("10.0.2.8", "10.0.2.7/24", "10.0.2.8/24", "10.0.0.0/24", "10.0.2.7"),
         "v6": ("fd00:c::8", "fd00:c::7/64", "fd00:c::8/64", "fd00:a::/64", "fd00:c::7")}
FAMS = [("IPv4", "v4", "10.0.0.5", "10.0.0.7"), ("IPv6", "v6", "fd00:a::5", "fd00:a::7")]
WANT = 40        # RTP buffers: 2.5 s of the 8 kHz stream
PLAY_S = 6.0     # the streaming run lasts this long at most
THIRD_SPORT = 41000

# Per app: the policies of both ends, the pinholed sets (media: the SETUP reply's client_port
# on the client; rtcp: its server_port on the server, None when the app has no such flow) and
# the rtspsrc port range the static fallback admits (None: any port, RTP's 1024-65535).
APPS = {
    "rtsp": dict(name="gst-rtsp-server + rtspsrc", server="allow rtsp server;\n",
                 client="allow rtsp client;\n", media="ph_rtsp_media", rtcp="ph_rtsp_rtcp",
                 static_range=None),
    "realplayer": dict(name="gst-rtsp-server + rtspsrc, app realplayer", server="allow realplayer server;\n",
                       client="allow realplayer client;\n", media="ph_realplayer_data_rtsp", rtcp=None,
                       static_range="7000-7001"),
}


def gst_missing():
    """The GStreamer pieces this case needs that are not installed (empty: all there)."""
    code = ("import gi\ngi.require_version('Gst','1.0');gi.require_version('GstRtspServer','1.0')\n"
            "from gi.repository import Gst, GstRtspServer\nGst.init(None)\n"
            "print(' '.join(e for e in ('rtspsrc','audiotestsrc','audioconvert','rtpL16pay','fakesink')"
            " if not Gst.ElementFactory.find(e)))\n")
    try:
        r = subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return PACKAGES
    if r.returncode != 0:
        return PACKAGES
    return r.stdout.split()


def third_ns(topo):
    """A namespace wired to the client's eth1 (10.0.2.8, fd00:c::8), routed to the client's
    eth0 addresses through it. Returns its name; the caller deletes it."""
    ns = f"ph-realrtsp-{os.getpid()}-oth"
    subprocess.run([N.IP, "netns", "add", ns], capture_output=True)
    N.ns_run(ns, ["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"])
    N.ns_run(topo.peer, [N.IP, "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", ns])
    for fam in ("v4", "v6"):
        _, mine, theirs, _, _ = THIRD[fam]
        nodad = ["nodad"] if fam == "v6" else []
        N.ns_run(topo.peer, [N.IP, "addr", "add", mine, "dev", "eth1"] + nodad)
        N.ns_run(ns, [N.IP, "addr", "add", theirs, "dev", "eth0"] + nodad)
    for cmd in (["link", "set", "lo", "up"], ["link", "set", "eth0", "up"]):
        N.ns_run(ns, [N.IP] + cmd)
    N.ns_run(topo.peer, [N.IP, "link", "set", "eth1", "up"])
    for fam in ("v4", "v6"):
        N.ns_run(ns, [N.IP, "route", "add", THIRD[fam][3], "via", THIRD[fam][4]])
    return ns


def udp_send(ns, dst, dport, sport=THIRD_SPORT):
    s = N.socket_in(ns, socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("", sport))
        s.sendto(b"not rtp", (dst, dport))
    finally:
        s.close()


def udp_reaches(src_ns, dst_ns, dst, dport):
    """A datagram from src_ns reaches a socket bound in dst_ns at dst:dport."""
    r = N.socket_in(dst_ns, socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        r.bind((dst, dport))
        r.settimeout(1.5)
        udp_send(src_ns, dst, dport)
        return r.recv(100) == b"not rtp"
    except OSError:
        return False
    finally:
        r.close()


def url(addr):
    return f"rtsp://[{addr}]:554/test" if ":" in addr else f"rtsp://{addr}:554/test"


def start_client(procs, topo, base, addr, limit, tag, port_range=None):
    path = os.path.join(base, "rtsp-client.py")
    log = os.path.join(base, f"rtsp-client-{tag}.log")
    argv = [PY, path, url(addr), str(WANT), str(limit)] + ([port_range] if port_range else [])
    p = procs.start(topo.peer, argv, open(log, "w"))
    return p, log


def play(procs, topo, base, addr, tag, limit=PLAY_S + 4, port_range=None):
    """Runs the client to its end: (buffers received, its output)."""
    p, log = start_client(procs, topo, base, addr, limit, tag, port_range)
    try:
        p.wait(timeout=limit + 15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    out = open(log).read()
    n = next((int(l.split()[1]) for l in out.splitlines() if l.startswith("buffers ")), -1)
    return n, out


def port_of(elements, prefix):
    """The port of the first element `prefix . udp . PORT ...`, or None."""
    for e in elements:
        if e.startswith(prefix + " . udp . "):
            return int(e[len(prefix) + 9:].split()[0])
    return None


def wait_empty(R, topo, sets, timeout=75):
    """Waits until the sets are empty; returns what is left. Each round lists the namespaces'
    conntrack tables: a dump reaps entries that expired (the TIME_WAIT of the closed control
    connection), as the kernel's garbage collector does later (up to a minute), and the
    reaping is the DESTROY event pinholed acts on."""
    deadline = time.monotonic() + timeout
    while True:
        for ns in (topo.fw, topo.peer):
            N.ns_run(ns, ["conntrack", "-L", "-p", "tcp"], check=False)
        left = [e for ns, name in sets for e in R.set_elements(ns, name)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def cases(base, R, app="rtsp"):
    """R: the test_real_apps module (its SUITE, Procs, Pinholed, policies); app: a key of APPS."""
    A = APPS[app]
    name = A["name"]
    SUITE = R.SUITE
    lack = gst_missing()
    if not os.access(R.PINHOLED, os.X_OK):
        lack.append(R.PINHOLED)
    if lack:
        return R.skip_or_fail(name, lack)
    d = os.path.join(base, app)
    os.makedirs(d, exist_ok=True)
    for fn, text in (("rtsp-server.py", SERVER), ("rtsp-client.py", CLIENT)):
        with open(os.path.join(d, fn), "w") as f:
            f.write(text)
    with N.host_topology() as topo:
        procs = R.Procs(topo)
        oth = None
        try:
            oth = third_ns(topo)
            for ns in (topo.fw, topo.peer):   # the control connection's conntrack entry ends 2 s after close
                N.ns_run(ns, ["sysctl", "-qw", "net.netfilter.nf_conntrack_tcp_timeout_time_wait=2"])
            slog = os.path.join(d, "rtsp-server.log")
            procs.start(topo.fw, [PY, os.path.join(d, "rtsp-server.py"), "::", "554"], open(slog, "w"))
            deadline = time.monotonic() + 15
            while "listening" not in open(slog).read():
                if time.monotonic() > deadline or procs.procs[-1].poll() is not None:
                    SUITE.check(f"{name}: the RTSP server listens on port 554", False, open(slog).read())
                    return
                time.sleep(0.2)
            for fam, v, srv, cli in FAMS:
                n, out = play(procs, topo, d, srv, f"{v}-open")
                SUITE.check(f"{name}: without a firewall: {fam} rtspsrc receives {WANT} RTP buffers over UDP",
                            n >= WANT, out)
                SUITE.check(f"{name}: without a firewall: {fam} UDP from the third namespace reaches the client",
                            udp_reaches(oth, topo.peer, cli, 47000))
            # firewalls, no pinholed: RTSP passes, the media do not (and cannot fall back to TCP)
            R.both_ends(topo, A["server"], A["client"])
            for fam, v, srv, cli in FAMS:
                n, out = play(procs, topo, d, srv, f"{v}-blocked")
                SUITE.expect(f"{name}: firewalls, no pinholed: {fam} rtspsrc receives no RTP buffer", n, 0)
                SUITE.check(f"{name}: firewalls, no pinholed: {fam} the RTSP exchange itself passes "
                            "(SETUP and PLAY answered)", "progress: Sent PLAY request" in out, out)
            # the scoped static fallback: no daemon, the flow's ports from servers the client used
            R.unload(topo)
            R.both_ends(topo, "negotiated static;\n" + A["server"], "negotiated static;\n" + A["client"])
            pr = A["static_range"]
            for fam, v, srv, cli in FAMS:
                n, out = play(procs, topo, d, srv, f"{v}-static", port_range=pr)
                SUITE.check(f"{name}: negotiated static: {fam} rtspsrc receives {WANT} RTP buffers" +
                            (f" on client ports {pr}" if pr else ""), n >= WANT, out)
            # pinholed on both ends
            R.unload(topo)
            spol, cpol = A["server"], A["client"]
            paths = []
            for ns, pol in ((topo.fw, spol), (topo.peer, cpol)):
                path = os.path.join(d, f"{ns}.pin")
                with open(path, "w") as f:
                    f.write(pol)
                paths.append((ns, path))
            R.both_ends(topo, spol, cpol)
            N.install_probe(topo.peer)
            ph = R.Pinholed(d, procs, paths)
            if not SUITE.check(f"{name}: pinholed starts on both ends", ph.ready(), ph.logs()):
                ph.stop()
                return
            for fam, v, srv, cli in FAMS:
                p, log = start_client(procs, topo, d, srv, PLAY_S, f"{v}-pinholed")
                mset, rset = f"{A['media']}_{v}", A["rtcp"] and f"{A['rtcp']}_{v}"
                media, rtcp = None, None
                deadline = time.monotonic() + PLAY_S
                while time.monotonic() < deadline and (media is None or (rset and rtcp is None)):
                    media = port_of(R.set_elements(topo.peer, mset), f"{srv} . {cli}")
                    rtcp = rset and port_of(R.set_elements(topo.peer, rset), f"{srv} . {cli}")
                    time.sleep(0.2)
                SUITE.check(f"{name}: pinholed: {fam} the client's media pinhole is {srv} . {cli} . udp . "
                            f"the SETUP reply's client_port (set {mset})", media is not None, ph.logs())
                if rset:
                    SUITE.check(f"{name}: pinholed: {fam} the client's rtcp pinhole is {srv} . {cli} . udp . "
                                "the reply's server_port", rtcp is not None, ph.logs())
                if media is not None and app == "realplayer":
                    SUITE.check(f"{name}: pinholed: {fam} the pinhole is rtspsrc's own port {media}, not the "
                                "guide's static 7000 or 6970", media not in (6970, 7000), repr(media))
                if media is not None:
                    srv_media = R.set_elements(topo.fw, mset)
                    SUITE.check(f"{name}: pinholed: {fam} the server's media pinhole is {cli} . {srv} . udp . {media}",
                                port_of(srv_media, f"{cli} . {srv}") == media, repr(srv_media))
                    if rset:
                        srv_rtcp = R.set_elements(topo.fw, rset)
                        SUITE.check(f"{name}: pinholed: {fam} the server's rtcp pinhole is {cli} . {srv} . udp . {rtcp}",
                                    port_of(srv_rtcp, f"{cli} . {srv}") == rtcp, repr(srv_rtcp))
                    # while the stream runs: the third namespace's datagram to the same port is dropped
                    udp_send(oth, cli, media)
                    time.sleep(0.5)
                    seen = N.read_probe(topo.peer)
                    SUITE.check(f"{name}: pinholed: {fam} the server's RTP reaches the client's port {media}",
                                any(s.hook == "input" and s.proto == "udp" and s.src == N._norm(srv) and
                                    s.dport == media for s in seen), repr(seen))
                    SUITE.expect(f"{name}: pinholed: {fam} UDP from the third namespace {THIRD[v][0]} to the "
                                 f"client's media port {media} is dropped",
                                 N.Seen("input", "udp", N._norm(THIRD[v][0]), THIRD_SPORT, N._norm(cli), media) in seen,
                                 False)
                try:
                    p.wait(timeout=PLAY_S + 15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                out = open(log).read()
                n = next((int(l.split()[1]) for l in out.splitlines() if l.startswith("buffers ")), -1)
                SUITE.check(f"{name}: pinholed on both ends: {fam} rtspsrc receives {WANT} RTP buffers over UDP",
                            n >= WANT, out + ph.logs())
                # TEARDOWN, the connection closes, conntrack forgets it: pinholed closes the pinholes
                left = wait_empty(R, topo, [(ns, f"{f}_{v}") for ns in (topo.fw, topo.peer)
                                            for f in (A["media"], A["rtcp"]) if f])
                SUITE.expect(f"{name}: pinholed: {fam} after TEARDOWN and the control connection's end the "
                             "pinholes are gone on both ends", left, [])
            SUITE.check(f"{name}: pinholed stops and says it closed its pinholes", ph.stop(), ph.logs())
            opened = [l for l in ph.logs().splitlines() if "opened" in l]
            print(f"    pinholed opened {len(opened)} pinhole(s) over both families and ends", flush=True)
        finally:
            procs.close()
            if oth:
                subprocess.run([N.IP, "netns", "del", oth], capture_output=True)
