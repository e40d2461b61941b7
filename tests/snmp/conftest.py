"""Session-wide real agents for the wire-path tests (see :mod:`tests.snmp.agents`)."""

from __future__ import annotations

import pytest

from tests.snmp.agents import Agent, snmpd_agent, snmpsim_agent

SLOW = (
    "1.3.6.1.2.1.1.1.0|4|slow agent\n"
    "1.3.6.1.2.1.1.3.0|67:delay|value=4242,wait=700\n"
    "1.3.6.1.2.1.1.5.0|4|slow\n"
)
"""snmpsim data whose sysUpTime answer takes 0.7 s (the delay variation module)."""


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory) -> Agent:
    with snmpd_agent(tmp_path_factory.mktemp("snmpd")) as agent:
        yield agent


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory) -> Agent:
    with snmpsim_agent(tmp_path_factory.mktemp("snmpsim"), extra={"slow": SLOW}) as agent:
        yield agent
