"""The SSLP importer on a tiny hand-made instance: the objective of the imported instance equals
SSLP's own extensive form (continuous assignment) solved independently, and bad folders are one
line with exit 2."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from siting.cli import main
from siting.instance.sslp import import_sslp
from tests.helpers import solve

FIXED = {1: 30.0, 2: 12.0}
CAPACITY = 20.0
# Revenue[i,j] = Demand[i,j], as in SIPLIB's files
Q = {(1, 1): 9.0, (1, 2): 6.0, (2, 1): 8.0, (2, 2): 7.0, (3, 1): 10.0, (3, 2): 5.0}
PRESENT = [{1, 2, 3}, {1, 3}]
PROB = [0.3, 0.7]


def _dat(present: set, capacity: float = CAPACITY) -> str:
    rev = "\n".join(f"{i} {Q[i, 1]:g} {Q[i, 2]:g}" for i in (1, 2, 3))
    return (f"param NumServers := 2 ;\nparam NumClients := 3 ;\nparam Capacity := {capacity} ;\n"
            f"param FixedCost :=\n1 {FIXED[1]:g}\n2 {FIXED[2]:g}\n;\n\n"
            f"param Revenue:\n  1 2:=\n{rev}\n;\n\nparam Demand:\n  1 2:=\n{rev}\n;\n\n"
            "param ClientPresent:=\n" + "\n".join(f"{i} {int(i in present)}" for i in (1, 2, 3)) + "\n;\n")


def _write(folder, capacity: float = CAPACITY):
    data = folder / "scenariodata"
    data.mkdir(parents=True)
    for k, here in enumerate(PRESENT, start=1):
        (data / f"Scenario{k}.dat").write_text(_dat(here, capacity))
    (data / "ScenarioStructure.dat").write_text(
        "set Stages := FirstStage SecondStage ;\n"
        f"param ConditionalProbability :=\nRootNode 1.0\nNode1 {PROB[0]}\nNode2 {PROB[1]}\n;\n"
        "param ScenarioLeafNode :=\nScenario1 Node1\nScenario2 Node2\n;\n")
    return folder


def _sslp_truth(capacity: float = CAPACITY, penalty: float = 1000.0) -> tuple[float, tuple]:
    """SSLP's extensive form, written from its definition: every x in {0,1}^2, and per scenario
    the LP over y_ij in [0,1] (each present client assigned once, to any server) and overflow
    z_j >= 0 at the penalty a unit: min c x + sum_w p_w (-q y + penalty z)."""
    best = (np.inf, ())
    for x in itertools.product((0, 1), repeat=2):
        total = sum(FIXED[j + 1] * x[j] for j in range(2))
        for here, p in zip(PRESENT, PROB):
            clients = sorted(here)
            n = len(clients) * 2
            cost = [-Q[i, j] for i in clients for j in (1, 2)] + [penalty, penalty]
            a_eq = [[1.0 if k // 2 == c else 0.0 for k in range(n)] + [0, 0] for c in range(len(clients))]
            a_ub = [[Q[clients[k // 2], j] if k % 2 == j - 1 else 0.0 for k in range(n)]
                    + [-1.0 if j == 1 else 0.0, -1.0 if j == 2 else 0.0] for j in (1, 2)]
            lp = linprog(cost, A_ub=a_ub, b_ub=[capacity * x[0], capacity * x[1]], A_eq=a_eq,
                         b_eq=[1.0] * len(clients), bounds=[(0, 1)] * n + [(0, None)] * 2, method="highs")
            total += p * lp.fun
        if total < best[0]:
            best = (total, tuple(j + 1 for j in range(2) if x[j]))
    return best


def test_the_imported_instance_solves_to_sslps_own_optimum(tmp_path):
    """Client 2 leaves in scenario 2; server 2 is cheap to open but earns less. The truth above,
    solved with scipy apart from the package, must equal the imported instance's optimum to 1e-7,
    with the same servers open."""
    folder = import_sslp(_write(tmp_path / "sslp_2_3_2"), tmp_path / "inst")
    run = solve(folder, duals=False)
    truth, servers = _sslp_truth()
    assert run.outcome.status == "optimal"
    assert run.outcome.objective == pytest.approx(truth, rel=1e-7, abs=1e-7)
    sites = run.results.tables["sites"]
    assert tuple(int(s[1:]) for s in sites.loc[sites["open"], "site"] if s != "overflow") == servers
    assert run.violations == []
    assert dict(zip(run.results.tables["scenarios"]["scenario"], run.results.tables["scenarios"]["probability"])) \
        == pytest.approx({"Scenario1": 0.3, "Scenario2": 0.7})


def test_a_tight_capacity_overflows_at_the_penalty(tmp_path):
    """Capacity 5 and overflow at 0.5 a unit (--penalty): serving beyond a server's capacity, even
    at a closed server, pays; the optimum still equals SSLP's own with the same capacity and
    penalty (-10.7 with no server open: every client served as overflow)."""
    folder = _write(tmp_path / "sslp_2_3_2", capacity=5.0)
    assert main(["import", "sslp", str(folder), "-o", str(tmp_path / "inst"), "--penalty", "0.5"]) == 0
    run = solve(tmp_path / "inst", duals=False)
    assert run.outcome.objective == pytest.approx(_sslp_truth(5.0, 0.5)[0], rel=1e-7, abs=1e-7)
    # overflow is cheaper than revenue: clients are served as overflow (at any server, open or not)
    res, prod = run.results.tables["resources"], run.results.tables["production"]
    assert res["extra"].max() > 0 or prod.loc[prod["site"] == "overflow", "wafers_per_year"].sum() > 0
    assert run.violations == []


@pytest.mark.parametrize("make,expected", [
    (lambda p: p, "{p} | no such folder; give an SSLP folder, e.g. sslp_5_25_50"),
    (lambda p: (p.mkdir(), p)[1], "{p} | holds no ScenarioN.dat files; give an SSLP folder (its scenariodata/ or "
                                 "the folder above it)"),
    (lambda p: (p.mkdir(), (p / "Scenario1.dat").write_text("param NumServers := 2 ;\n"), p)[2],
     "Scenario1.dat | has no param NumClients; give an SSLP .dat file as SIPLIB and mpi-sppy distribute it"),
    (lambda p: (p.mkdir(), (p / "Scenario1.dat").write_text("param FixedCost :=\n1 x 2\n;\n"), p)[2],
     "Scenario1.dat param FixedCost | cannot be read as numbers; give an SSLP .dat file as SIPLIB and mpi-sppy "
     "distribute it"),
])
def test_bad_sslp_folders_are_one_line_and_exit_2(tmp_path, capsys, make, expected):
    folder = make(tmp_path / "bad")
    assert main(["import", "sslp", str(folder), "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == expected.format(p=folder)
    assert not (tmp_path / "out").exists()
