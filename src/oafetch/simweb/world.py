"""Generate the simulated scholarly world: pure, deterministic from (profile, seed, works).

Why routes by (host, path) and not URLs: ports are chosen by the OS when the server binds,
after the world exists; keeping the world port-free makes it a pure function of its inputs
(so tests can regenerate it and compare) and the server composes URLs at answer time.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

from .scenarios import SCENARIOS, scenario_plan

__all__ = ["Loc", "Resource", "SimWork", "WorkSpec", "World", "build_world"]

P1, P2, REPO = "publisher1", "publisher2", "repository"


@dataclass(frozen=True, slots=True)
class SimWork:
    """Ground truth of one work, as a user of oafetch would see it."""

    input: str
    ids: dict[str, str]
    title: str
    scenario: str
    expect_status: str
    expect_class: str | None
    expect_format: str | None
    expect_source: str | None
    index: int = 0
    group: str | None = None  # works sharing bytes (dup pair) carry the same group

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SimWork:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True, slots=True)
class Loc:
    """One location an API reports: paths on a content host (landing and/or file)."""

    host: str
    landing: str | None
    pdf: str | None
    version: str = "publishedVersion"
    host_type: str = "publisher"
    license: str | None = "cc-by"
    is_oa: bool = True


@dataclass(frozen=True, slots=True)
class Resource:
    """What one (host, path) answers.

    kind: pdf | landing | xml | html | status | sequence | redirect | cloudflare |
    wrong_type | login. `variant` refines it (pdf: ok/big/truncated/other/abstract/dup;
    landing: citation/alternate/signposting/refresh/anchor/none/paywall).
    """

    kind: str
    work: int
    variant: str = "ok"
    target: tuple[str, str] | None = None
    codes: tuple[int, ...] = ()
    retry_after: str | None = None
    partner: int | None = None


@dataclass(slots=True)
class WorkSpec:
    """A work plus what every API says about it (absent key = that API answers 404)."""

    sim: SimWork
    key: str
    doi: str | None
    size: int
    year: int
    apis: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class World:
    profile: str
    seed: int
    works: list[WorkSpec]
    routes: dict[tuple[str, str], Resource]
    captures: dict[tuple[str, str], Resource]  # wayback snapshots of (host, path)
    index: dict[str, dict[str, int]]  # id type -> normalised id -> work index

    def find(self, kind: str, value: str) -> WorkSpec | None:
        i = self.index.get(kind, {}).get(value.lower() if kind == "doi" else value)
        return None if i is None else self.works[i]


_ADJ = [
    "Adaptive",
    "Bayesian",
    "Coupled",
    "Distributed",
    "Emergent",
    "Fractional",
    "Granular",
    "Hierarchical",
    "Invariant",
    "Latent",
    "Multiscale",
    "Nonlinear",
    "Optimal",
    "Robust",
    "Sparse",
    "Stochastic",
    "Topological",
    "Variational",
]
_NOUN = [
    "estimation",
    "dynamics",
    "inference",
    "transport",
    "signalling",
    "networks",
    "diffusion",
    "turbulence",
    "selection",
    "metabolism",
    "scattering",
    "learning",
    "growth",
    "dispersal",
    "folding",
    "symmetry",
    "coding",
    "resonance",
]
_THING = [
    "soil microbiomes",
    "coral reefs",
    "neural circuits",
    "glacier flow",
    "lithium anodes",
    "urban heat islands",
    "protein complexes",
    "quantum dots",
    "river deltas",
    "gut bacteria",
    "photonic lattices",
    "forest canopies",
    "ion channels",
    "galaxy clusters",
    "sea ice",
    "seed banks",
    "plasma jets",
    "tumour spheroids",
]


def make_title(rng: random.Random, n: int) -> str:
    """A readable, distinct title; `n` is folded in so no two works of a world share one."""
    adj, noun, thing = rng.choice(_ADJ), rng.choice(_NOUN), rng.choice(_THING)
    return f"{adj} {noun} of {thing}: study {n + 1} of the {rng.choice(_NOUN)} problem"


def _input_for(rng: random.Random, spec: WorkSpec, ids: dict[str, str]) -> str:
    scen = spec.sim.scenario
    if scen == "invalid_input":
        return f"not-an-identifier-{spec.sim.index}"
    if scen == "arxiv_pdf":
        return rng.choice(
            [f"arXiv:{ids['arxiv']}", ids["arxiv"], f"https://arxiv.org/abs/{ids['arxiv']}"]
        )
    if scen in ("pmc_pdf", "jats_xml"):
        return ids["pmcid"]
    doi = ids["doi"]
    options = [doi, f"doi:{doi}", f"https://doi.org/{doi}"]
    # An OpenAlex id only where OpenAlex itself decides the outcome: with a W id alone, the
    # DOI-keyed sources of the same tier (Unpaywall) cannot run until OpenAlex answered.
    if "openalex" in spec.apis and "openalex" in ids and scen != "unpaywall_pdf":
        options.append(ids["openalex"])
    return rng.choice(options)


def _pdf_loc(host: str, landing: str, pdf: str) -> list[Loc]:
    return [Loc(host, landing, pdf)]


def _plan(
    spec: WorkSpec,
    routes: dict[tuple[str, str], Resource],
    captures: dict[tuple[str, str], Resource],
    ids: dict[str, str],
) -> None:
    """Fill `spec.apis` and the routes that realise the work's scenario."""
    i, key, scen = spec.sim.index, spec.key, spec.sim.scenario
    p1_land, p1_pdf = f"/article/{key}", f"/article/{key}/pdf"
    p2_land, p2_pdf = f"/content/{key}", f"/content/{key}.full.pdf"
    repo_land, repo_pdf = f"/record/{key}", f"/bitstream/{key}.pdf"
    apis = spec.apis
    simple_pdf: dict[str, Resource] = {
        "oa_pdf": Resource("pdf", i),
        "big_pdf": Resource("pdf", i, "big"),
        "flaky_503": Resource("sequence", i, codes=(503, 200)),
        "retry_429": Resource("sequence", i, codes=(429, 200), retry_after="1"),
        "dup_a": Resource("pdf", i, "dup", partner=i + 1),
        "dup_b": Resource("pdf", i, "dup", partner=i - 1),
        "bot_wall": Resource("cloudflare", i),
        "wrong_type": Resource("wrong_type", i),
        "truncated": Resource("pdf", i, "truncated"),
        "wrong_work": Resource("pdf", i, "other"),
        "pdf_404": Resource("status", i, codes=(404,)),
        "always_503": Resource("status", i, codes=(503,)),
        "rate_limited": Resource("status", i, codes=(429,), retry_after="3600"),
        "abstract_only": Resource("pdf", i, "abstract"),
        "wayback_rescue": Resource("status", i, codes=(404,)),
        "redirect_loop": Resource("redirect", i, target=(P1, f"/loop/{key}/b")),
        "login_page": Resource("redirect", i, target=(P1, f"/login?next={p1_pdf}")),
    }
    landing_variants = {
        "landing_citation_pdf_url": "citation",
        "landing_link_alternate": "alternate",
        "landing_signposting": "signposting",
        "landing_meta_refresh": "refresh",
        "landing_anchor": "anchor",
        "landing_no_link": "none",
        "doaj_landing": "citation",
    }
    if scen in simple_pdf:
        # Hosts that refuse every request get a host of their own: their cool-downs and
        # breakers must not spill onto the works of publisher1.
        host = {"always_503": "overloaded", "rate_limited": "throttled"}.get(scen, P1)
        routes[(host, p1_pdf)] = simple_pdf[scen]
        routes[(host, p1_land)] = Resource("landing", i, "citation", target=(host, p1_pdf))
        apis["openalex"] = _pdf_loc(host, p1_land, p1_pdf)
        apis["doi"] = (host, p1_land)
        if scen == "redirect_loop":
            routes[(P1, f"/loop/{key}/b")] = Resource("redirect", i, target=(P1, p1_pdf))
        if scen == "login_page":
            routes[(P1, "/login")] = Resource("login", i)
        if scen == "wayback_rescue":
            captures[(P1, p1_pdf)] = Resource("pdf", i)
    elif scen == "robots_disallowed":
        private = f"/private/{key}.pdf"
        routes[(REPO, private)] = Resource("pdf", i)
        routes[(REPO, repo_land)] = Resource("landing", i, "citation", target=(REPO, private))
        apis["openalex"] = [Loc(REPO, repo_land, private, "acceptedVersion", "repository")]
    elif scen == "unpaywall_pdf":
        routes[(P2, p2_land)] = Resource("landing", i, "none")
        routes[(REPO, repo_land)] = Resource("landing", i, "citation", target=(REPO, repo_pdf))
        routes[(REPO, repo_pdf)] = Resource("pdf", i)
        apis["openalex"] = [Loc(P2, p2_land, None)]
        apis["unpaywall"] = [
            Loc(P2, p2_land, None),
            Loc(REPO, repo_land, repo_pdf, "acceptedVersion", "repository"),
        ]
        apis["doi"] = (P2, p2_land)
    elif scen == "arxiv_pdf":
        apis["arxiv"] = True
    elif scen == "closed":
        routes[(P1, p1_land)] = Resource("landing", i, "paywall")
        apis["openalex"] = [Loc(P1, p1_land, None, license=None, is_oa=False)]
        apis["unpaywall"] = []
        apis["crossref"] = []
        # No doi.org route: a followed paywall page must not turn no_oa_location into
        # landing_no_link (the expected class is about OA locations, not landing pages).
    elif scen in landing_variants:
        variant = landing_variants[scen]
        routes[(P2, p2_land)] = Resource("landing", i, variant, target=(P2, p2_pdf))
        routes[(P2, p2_pdf)] = Resource("pdf", i)
        if scen == "doaj_landing":
            apis["doaj"] = Loc(P2, p2_land, None)
        else:
            apis["openalex"] = [Loc(P2, p2_land, None)]
        apis["doi"] = (P2, p2_land)
    elif scen == "crossref_pdf":
        routes[(P2, p2_land)] = Resource("landing", i, "none")
        routes[(P2, p2_pdf)] = Resource("pdf", i)
        apis["crossref"] = [Loc(P2, None, p2_pdf)]
        apis["doi"] = (P2, p2_land)
    elif scen == "doi_direct_pdf":
        routes[(P1, p1_pdf)] = Resource("pdf", i)
        apis["doi"] = (P1, p1_pdf)
    elif scen in ("pmc_pdf", "jats_xml", "europepmc_pdf", "html_only"):
        pmcid = ids["pmcid"]
        apis["idconv"] = True
        if scen == "pmc_pdf":
            path = f"/pmc/articles/{pmcid}/pdf/{key}.pdf"
            routes[("pmc", path)] = Resource("pdf", i)
            # As on the real PMC: the article's /pdf/ URL redirects to the file.
            routes[("pmc", f"/pmc/articles/{pmcid}/pdf/")] = Resource(
                "redirect", i, target=("pmc", path)
            )
            apis["pmc_oa"] = path
        elif scen == "jats_xml":
            apis["pmc_oa"] = None  # record exists, tgz only
            apis["europepmc"] = []
            routes[("europepmc", f"/{pmcid}/fullTextXML")] = Resource("xml", i)
        elif scen == "europepmc_pdf":
            path = f"/articles/{pmcid}/pdf"
            routes[("europepmc", path)] = Resource("pdf", i)
            apis["europepmc"] = [("pdf", "europepmc", path)]
        else:
            path = f"/fulltext/{key}.html"
            routes[(REPO, path)] = Resource("html", i)
            apis["europepmc"] = [("html", REPO, path)]
    elif scen == "s2_pdf":
        routes[(REPO, repo_pdf)] = Resource("pdf", i)
        apis["semantic_scholar"] = Loc(REPO, None, repo_pdf, "acceptedVersion", "repository")
    elif scen in ("zenodo_pdf", "hal_pdf", "core_pdf", "osf_pdf", "figshare_pdf"):
        src = scen.removesuffix("_pdf")
        host = "zenodo" if src == "zenodo" else REPO
        path = {
            "zenodo": f"/api/records/{900000 + i}/files/{key}.pdf/content",
            "hal": f"/hal/{key}/document",
            "core": f"/core/download/{key}.pdf",
            "osf": f"/osf/{key}/download",
            "figshare": f"/figshare/ndownloader/files/{700000 + i}",
        }[src]
        routes[(host, path)] = Resource("pdf", i)
        apis[src] = Loc(host, None, path, "acceptedVersion", "repository")
    # unknown / invalid_input: nothing anywhere


def build_world(
    profile: str,
    seed: int,
    works: int,
    *,
    pdf_min_bytes: int = 8_000,
    pdf_max_bytes: int = 60_000,
    big_pdf_bytes: int = 20_000_000,
) -> World:
    """Build the world; raises ValueError on an unknown profile or bad sizes."""
    if works < 1:
        raise ValueError("works must be at least 1")
    if not 1_500 <= pdf_min_bytes <= pdf_max_bytes:
        raise ValueError("need 1500 <= pdf_min_bytes <= pdf_max_bytes")
    plan = scenario_plan(profile, seed, works)
    routes: dict[tuple[str, str], Resource] = {}
    captures: dict[tuple[str, str], Resource] = {}
    index: dict[str, dict[str, int]] = {
        k: {} for k in ("doi", "arxiv", "pmcid", "pmid", "openalex")
    }
    specs: list[WorkSpec] = []
    for i, scen_name in enumerate(plan):
        rng = random.Random(f"simweb:{seed}:{i}")
        scen = SCENARIOS[scen_name]
        key = f"sim.{seed}.{i}"
        ids: dict[str, str] = {}
        if scen_name == "arxiv_pdf":
            ids["arxiv"] = f"2{seed % 10}01.{i:05d}"
        elif scen_name != "invalid_input":
            ids["doi"] = f"10.5555/{key}"
        pmc_like = scen_name in ("pmc_pdf", "jats_xml", "europepmc_pdf", "html_only")
        if (pmc_like or i % 5 == 4) and "doi" in ids:
            ids["pmid"] = str(39_000_000 + seed * 10_000 + i)
        if scen_name in ("pmc_pdf", "jats_xml", "europepmc_pdf", "html_only"):
            ids["pmcid"] = f"PMC{9_000_000 + seed * 10_000 + i}"
        size = (
            big_pdf_bytes if scen_name == "big_pdf" else rng.randint(pdf_min_bytes, pdf_max_bytes)
        )
        group = None
        if scen_name in ("dup_a", "dup_b"):
            group = f"dup-{i if scen_name == 'dup_a' else i - 1}"
        title = make_title(rng, i)
        sim = SimWork(
            "",
            {},
            title,
            scen_name,
            scen.expect_status,
            scen.expect_class,
            scen.expect_format,
            scen.expect_source,
            i,
            group,
        )
        spec = WorkSpec(sim, key, ids.get("doi"), size, 2015 + rng.randint(0, 10))
        _plan(spec, routes, captures, ids)
        if "openalex" in spec.apis:
            ids["openalex"] = f"W{4_100_000_000 + seed * 100_000 + i}"
        spec.sim = SimWork(
            _input_for(rng, spec, ids),
            dict(ids),
            title,
            scen_name,
            scen.expect_status,
            scen.expect_class,
            scen.expect_format,
            scen.expect_source,
            i,
            group,
        )
        for kind, value in ids.items():
            index[kind][value.lower() if kind == "doi" else value] = i
        specs.append(spec)
    # A dup pair whose partner fell off the end of the list is an ordinary success.
    for spec in specs:
        if spec.sim.scenario == "dup_a" and (spec.sim.index + 1 >= works):
            routes[(P1, f"/article/{spec.key}/pdf")] = Resource("pdf", spec.sim.index)
    return World(profile, seed, specs, routes, captures, index)
