"""The regions of Kazakhstan as the overview grid lists them (17 regions and 3 cities of
republican significance, after the 2022 reform), in the English spelling probes report."""

from __future__ import annotations

KZ_REGIONS: tuple[str, ...] = (
    "Astana",
    "Almaty",
    "Shymkent",
    "Abai",
    "Akmola",
    "Aktobe",
    "Almaty Region",
    "Atyrau",
    "East Kazakhstan",
    "Jambyl",
    "Jetisu",
    "Karaganda",
    "Kostanay",
    "Kyzylorda",
    "Mangystau",
    "North Kazakhstan",
    "Pavlodar",
    "Turkistan",
    "Ulytau",
    "West Kazakhstan",
)
