"""The benchmark's timed operations take turns between the servers, so a machine's drift affects both alike."""

from crm.devtools import operations


def test_interleaved_timing_takes_turns_between_the_servers():
    calls = []
    samples = operations.interleaved([lambda: calls.append("sqlite"), lambda: calls.append("postgresql")], 3)
    assert calls == ["sqlite", "postgresql"] * 3
    assert [len(server_samples) for server_samples in samples] == [3, 3]
    assert all(sample >= 0 for server_samples in samples for sample in server_samples)
