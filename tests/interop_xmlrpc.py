"""Every method of the XML-RPC API, called with Python's own xmlrpc.client
(through Supervisor 4.3.0's unix-socket transport) against our daemon.

Run by tests/interop.rs: interop_xmlrpc.py <socket path> <supervisord pid>.
Expected values come from the API reference (spec xmlrpc.md).
"""

import sys
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

SOCKET, PID = sys.argv[1], int(sys.argv[2])
server = xmlrpc.client.ServerProxy(
    "http://127.0.0.1", transport=SupervisorTransport(None, None, "unix://" + SOCKET))
sup, system = server.supervisor, server.system
failures = []


def check(what, got, expected):
    if got != expected:
        failures.append(f"{what}: got {got!r}, expected {expected!r}")


def fault(what, call, code, string=None):
    try:
        result = call()
    except xmlrpc.client.Fault as f:
        check(what + " code", f.faultCode, code)
        if string is not None:
            check(what + " string", f.faultString, string)
        return
    failures.append(f"{what}: no fault, got {result!r}")


# system.*
methods = system.listMethods()
check("listMethods count", len(methods), 41)
check("listMethods sorted", methods, sorted(methods))
check("methodSignature", system.methodSignature("supervisor.startProcess"),
      ["boolean", "string", "boolean"])
check("methodHelp is text", isinstance(system.methodHelp("supervisor.getPID"), str), True)
fault("methodHelp unknown", lambda: system.methodHelp("nope.nope"), 4)
fault("methodSignature unknown", lambda: system.methodSignature("nope.nope"), 4)
check("multicall", system.multicall([
    {"methodName": "supervisor.getAPIVersion"},
    {"methodName": "supervisor.nope"},
    {"params": []},
    {"methodName": "system.multicall", "params": [[]]},
]), [
    "3.0",
    {"faultCode": 1, "faultString": "UNKNOWN_METHOD"},
    {"faultCode": 2, "faultString": "INCORRECT_PARAMETERS: No methodName"},
    {"faultCode": 2, "faultString": "INCORRECT_PARAMETERS: Recursive system.multicall forbidden"},
])

# Identity and state.
check("getAPIVersion", sup.getAPIVersion(), "3.0")
check("getVersion", sup.getVersion(), "3.0")
check("getSupervisorVersion", sup.getSupervisorVersion(), "4.3.0")
check("getIdentification", sup.getIdentification(), "supervisor")
check("getState", sup.getState(), {"statecode": 1, "statename": "RUNNING"})
check("getPID", sup.getPID(), PID)
fault("unknown method", lambda: sup.nope(), 1, "UNKNOWN_METHOD")
fault("bad method name", lambda: server.nope(), 1)
fault("wrong argument count", lambda: sup.getPID(1), 2, "INCORRECT_PARAMETERS")
fault("wrong argument type", lambda: sup.getProcessInfo(5), 2)

# Process info.
info = sup.getProcessInfo("web")
check("info fields", sorted(info), sorted([
    "name", "group", "start", "stop", "now", "state", "statename", "spawnerr",
    "exitstatus", "logfile", "stdout_logfile", "stderr_logfile", "pid", "description"]))
check("info state", (info["name"], info["group"], info["statename"], info["state"]),
      ("web", "web", "RUNNING", 20))
check("info description", info["description"].startswith(f"pid {info['pid']}, uptime 0:00:"), True)
check("info logfile", info["logfile"], info["stdout_logfile"])
fault("info unknown", lambda: sup.getProcessInfo("nosuch"), 10, "BAD_NAME: nosuch")
fault("info whole group", lambda: sup.getProcessInfo("grp:*"), 10, "BAD_NAME: grp:*")
check("info group member", sup.getProcessInfo("grp:ga")["group"], "grp")
everything = sup.getAllProcessInfo()
check("all info order", [(p["group"], p["name"]) for p in everything],
      [("grp", "ga"), ("grp", "gb"), ("idle", "idle"), ("nofile", "nofile"), ("web", "web")])
config = sup.getAllConfigInfo()
check("config info order", [c["name"] for c in config], ["ga", "gb", "idle", "nofile", "web"])
check("config info fields", config[2]["autostart"], False)

# Process control.
check("startProcess", sup.startProcess("idle"), True)
fault("already started", lambda: sup.startProcess("idle"), 60, "ALREADY_STARTED: idle")
fault("no file", lambda: sup.startProcess("nofile"), 20,
      "NO_FILE: can't find command '/nonexistent/program'")
fault("start unknown", lambda: sup.startProcess("nosuch"), 10)
check("stopProcess", sup.stopProcess("idle"), True)
fault("not running", lambda: sup.stopProcess("idle"), 70, "NOT_RUNNING: idle")
check("startProcess no wait", sup.startProcess("idle", False), True)
check("stopProcess no wait", sup.stopProcess("idle", False), True)
started = sup.startProcessGroup("grp")
check("startProcessGroup", started,
      [{"name": "gb", "group": "grp", "status": 80, "description": "OK"}])
fault("group unknown", lambda: sup.startProcessGroup("nosuch"), 10, "BAD_NAME: nosuch")
stopped = sup.stopProcessGroup("grp")
check("stopProcessGroup", sorted(r["name"] for r in stopped), ["ga", "gb"])
check("start whole-group form", sorted(r["name"] for r in sup.startProcess("grp:*")), ["ga", "gb"])

# Signals.
fault("bad signal", lambda: sup.signalProcess("web", "BOGUS"), 11, "BAD_SIGNAL: BOGUS")
check("signalProcess", sup.signalProcess("web", "0"), True)
fault("signal stopped", lambda: sup.signalProcess("idle", "HUP"), 70)
check("signalProcessGroup", sorted(r["status"] for r in sup.signalProcessGroup("grp", "0")),
      [80, 80])
check("signalAllProcesses", sorted(r["name"] for r in sup.signalAllProcesses("0")),
      ["ga", "gb", "web"])

# Logs.
check("readLog", "supervisord started" in sup.readLog(0, 0), True)
check("readMainLog", "supervisord started" in sup.readMainLog(0, 0), True)
fault("readLog bad arguments", lambda: sup.readLog(-1, 5), 3, "BAD_ARGUMENTS")
check("readProcessStdoutLog", sup.readProcessStdoutLog("web", 0, 0), "hello web\n")
check("readProcessLog", sup.readProcessLog("web", 6, 3), "web")
check("readProcessStderrLog", sup.readProcessStderrLog("web", 0, 0), "")
check("tailProcessStdoutLog", sup.tailProcessStdoutLog("web", 0, 5), [" web\n", 10, True])
check("tailProcessLog", sup.tailProcessLog("web", 10, 5), ["", 10, False])
check("tailProcessStderrLog", sup.tailProcessStderrLog("web", 0, 5), ["", 0, False])
fault("read unknown", lambda: sup.readProcessStdoutLog("nosuch", 0, 0), 10)
check("clearProcessLogs", sup.clearProcessLogs("web"), True)
check("cleared", sup.readProcessStdoutLog("web", 0, 0), "")
check("clearProcessLog", sup.clearProcessLog("web"), True)
check("clearAllProcessLogs", len(sup.clearAllProcessLogs()), 5)
check("clearLog", sup.clearLog(), True)

# Stdin and events.
check("sendProcessStdin", sup.sendProcessStdin("grp:ga", "hello\n"), True)
fault("stdin stopped", lambda: sup.sendProcessStdin("idle", "x"), 70, "NOT_RUNNING: idle")
fault("stdin not a string", lambda: sup.sendProcessStdin("grp:ga", 5), 2)
check("sendRemoteCommEvent", sup.sendRemoteCommEvent("kind", "data"), True)

# Configuration methods exist and answer with faults, not HTTP errors.
for name, call in [("reloadConfig", lambda: sup.reloadConfig()),
                   ("addProcessGroup", lambda: sup.addProcessGroup("x")),
                   ("removeProcessGroup", lambda: sup.removeProcessGroup("x"))]:
    try:
        call()
    except xmlrpc.client.Fault:
        pass

# Start and stop everything last.
check("stopAllProcesses", sorted(r["name"] for r in sup.stopAllProcesses()),
      ["ga", "gb", "web"])
all_started = sup.startAllProcesses()
check("startAllProcesses", sorted((r["name"], r["status"]) for r in all_started),
      [("ga", 80), ("gb", 80), ("idle", 80), ("nofile", 20), ("web", 80)])

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("all methods ok")
