#!/usr/bin/env python3
"""The catalog on a real Slurm cluster: a one-node cluster from Debian's packages (munged,
slurmctld and slurmd started here as processes with a configuration of their own, stopped
afterwards) runs the repository's sbatch recipe as a job array over the mini catalog. One task is
killed mid-run (scancel --signal=KILL) and requeued. Expected: every good book indexed exactly
once and identical to a plain `folio index` of it, no finished chunk decoded again after the
kill, the broken and the foreign book failed permanently with their class, `catalog status`
saying so. Exits 77 (skipped) where Slurm is not installed.

usage: test_catalog_slurm.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
"""
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalogfixture as fx  # noqa: E402

FOLIO, MKCORPUS, ROOT, WORK = sys.argv[1:5]
DAEMONS = ("munged", "slurmctld", "slurmd")


def which(name):
    return shutil.which(name) or next(
        (p for p in ("/usr/sbin/" + name, "/sbin/" + name) if os.path.exists(p)), None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A one-node Slurm cluster in @d, for this test only (its own munge key, socket and ports)."""

    def __init__(self, d):
        self.d = d
        self.procs = []
        shutil.rmtree(d, ignore_errors=True)
        for sub in ("munge", "state", "spool", "log"):
            os.makedirs(os.path.join(d, sub))
        os.chmod(os.path.join(d, "munge"), 0o700)
        key = os.path.join(d, "munge", "key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o600)
        open(os.path.join(d, "plugstack.conf"), "w").close()  # no SPANK plugins
        host = socket.gethostname()
        conf = os.path.join(d, "slurm.conf")
        with open(conf, "w") as f:
            f.write(f"""ClusterName=foliotest
SlurmctldHost={host}
AuthType=auth/munge
AuthInfo=socket={d}/munge/sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/log/slurmctld.log
SlurmdLogFile={d}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
PlugStackConfig={d}/plugstack.conf
NodeName={host} CPUs={os.cpu_count()} RealMemory=4000 State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
        self.env = dict(os.environ, SLURM_CONF=conf)

    def start(self):
        m = os.path.join(self.d, "munge")
        self.procs.append(subprocess.Popen(
            [which("munged"), "-F", "--force", "--socket=" + m + "/sock", "--key-file=" + m + "/key",
             "--pid-file=" + m + "/pid", "--log-file=" + m + "/log", "--seed-file=" + m + "/seed"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.time() + 20
        while not os.path.exists(m + "/sock") and time.time() < deadline:
            time.sleep(0.1)
        for d in ("slurmctld", "slurmd"):
            args = [which(d), "-D"] + (["-c"] if d == "slurmctld" else [])
            self.procs.append(subprocess.Popen(args, env=self.env, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
            time.sleep(1)
        deadline = time.time() + 60
        while time.time() < deadline:
            r = self.run("sinfo", "-h", "-o", "%t")
            if r.returncode == 0 and r.stdout.decode().strip() in ("idle", "mix", "alloc"):
                return
            time.sleep(0.5)
        raise RuntimeError("the Slurm node did not come up: " + self.logs())

    def logs(self):
        out = ""
        for name in ("slurmctld.log", "slurmd.log"):
            p = os.path.join(self.d, "log", name)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out += "\n--- %s ---\n%s" % (name, f.read()[-3000:])
        return out

    def run(self, *args, **kw):
        return subprocess.run(args, capture_output=True, env=kw.pop("env", self.env), timeout=60,
                              **kw)

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def finished_chunks(part):
    if not os.path.exists(part):
        return 0
    try:
        db = sqlite3.connect("file:%s?mode=ro" % part, uri=True, timeout=0.2)
        n = db.execute("SELECT count(*) FROM chunks WHERE words IS NOT NULL").fetchone()[0]
        db.close()
        return n
    except sqlite3.Error:
        return 0


class SlurmCatalog(unittest.TestCase):
    def test_job_array_with_a_killed_and_requeued_task(self):
        truth, lib = fx.build_library(MKCORPUS, ROOT, WORK)
        plain = fx.plain_exports(FOLIO, lib, WORK)
        d = os.path.join(WORK, "slurm-catalog")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        manifest = os.path.join(d, "catalog.tsv")
        r = subprocess.run([FOLIO, "catalog", "scan", lib, "-o", manifest], capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        cluster = Cluster(os.path.join(WORK, "slurm"))
        cluster.start()
        try:
            self.run_array(cluster, manifest, d, plain)
        except Exception:
            print(cluster.logs(), file=sys.stderr)
            raise
        finally:
            cluster.stop()

    def run_array(self, cluster, manifest, d, plain):
        r = subprocess.run([FOLIO, "catalog", "tasks", manifest, "--slurm", "--throttle", "2",
                            "--threads", "1"], capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        opts = r.stdout.decode().split()
        recipe = os.path.join(ROOT, "tools", "catalog", "folio-catalog.sbatch")
        env = dict(cluster.env, FOLIO=FOLIO)
        r = cluster.run("sbatch", "--parsable", "--chdir", d, "--output",
                        os.path.join(d, "task-%a.log"), *opts, recipe, manifest, env=env)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        job = r.stdout.decode().strip().split(";")[0]
        # Kill task 0 once it has finished some chunks, then requeue it.
        part = os.path.join(d, "indexes", fx.BOOKS[0][0] + ".folio.part")
        deadline = time.time() + 600
        before = 0
        while time.time() < deadline and before < 2:
            time.sleep(0.3)
            before = finished_chunks(part)
        self.assertGreaterEqual(before, 2, "task 0 finished no chunk in time")
        r = cluster.run("scancel", "--signal=KILL", job + "_0")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        deadline = time.time() + 120
        while time.time() < deadline:
            q = cluster.run("squeue", "-h", "-j", job + "_0", "-o", "%T").stdout.decode().strip()
            if "RUNNING" not in q and "COMPLETING" not in q:
                break
            time.sleep(0.5)
        r = cluster.run("scontrol", "requeue", job + "_0")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        cluster.run("scontrol", "update", "jobid=" + job + "_0", "StartTime=now")
        deadline = time.time() + 1500
        while time.time() < deadline:
            q = cluster.run("squeue", "-h", "-j", job).stdout.decode().strip()
            if not q:
                break
            time.sleep(1)
        self.assertFalse(cluster.run("squeue", "-h", "-j", job).stdout.decode().strip(),
                         "the array did not finish")

        r = subprocess.run([FOLIO, "catalog", "status", manifest, "--json"], capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        st = json.loads(r.stdout)
        states = {b["id"]: (b["state"], b.get("class")) for b in st["book_states"]}
        self.assertEqual(states, {b[0]: (b[1], b[2]) for b in fx.BOOKS}, self.task_logs(d))
        killed = st["book_states"][0]
        self.assertEqual(killed["attempt"], 2)
        for id_ in (fx.BOOKS[0][0], fx.BOOKS[1][0]):
            self.assertEqual(fx.export(FOLIO, os.path.join(d, "indexes", id_ + ".folio")),
                             plain[id_], id_)
        # The requeued task decoded only what the killed one had not finished.
        with open(os.path.join(d, "task-0.log"), errors="replace") as f:
            log = f.read()
        runs = re.findall(r"recognised (\d+) chunks in this run; (\d+) were finished by an "
                          r"earlier run", log)
        self.assertEqual(len(runs), 1, log[-3000:])
        again, earlier = map(int, runs[0])
        self.assertGreaterEqual(earlier, before)
        with open(os.path.join(d, "task-1.log"), errors="replace") as f:
            whole = re.findall(r"recognised (\d+) chunks in this run; 0 were", f.read())
        # Book 1 is the same audio: its uninterrupted run decoded the chunks book 0 has.
        self.assertEqual(len(whole), 1)
        self.assertEqual(again + earlier, int(whole[0]))
        self.assertEqual(sorted(os.listdir(os.path.join(d, "indexes"))),
                         sorted(b[0] + ".folio" for b in fx.BOOKS[:2]))

    def task_logs(self, d):
        out = ""
        for n in sorted(os.listdir(d)):
            if n.endswith(".log"):
                with open(os.path.join(d, n), errors="replace") as f:
                    out += "\n--- %s ---\n%s" % (n, f.read()[-1500:])
        return out


if __name__ == "__main__":
    if not all(which(x) for x in DAEMONS + ("sbatch",)):
        print("Slurm (slurm-wlm, munge) is not installed: skipped")
        sys.exit(77)
    unittest.main(argv=sys.argv[:1], verbosity=2)
