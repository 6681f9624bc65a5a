"""Who the seed cohort is: its study id and citation. Constants only, without pandas or scipy,
so the landing page can name its source without paying for the engine's imports."""

SEED_STUDY = "LIU2023"
SEED_DOI = "10.1038/s41598-023-30412-6"
SEED_CITATION = (
    "Liu Z, Xu J, Liu M, Hu W, Xu N, Zhu D. Efficacy and safety of angiogenesis inhibitors plus "
    "immune checkpoint inhibitors in advanced soft tissue sarcoma: a real-world, single-center "
    f"study. Sci Rep. 2023;13. doi:{SEED_DOI}"
)
