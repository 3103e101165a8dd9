# The run report: our scores beside the paper's (HTML + Markdown, figures) and the provenance
# record. Everything lands in reports/{run}/ where run = config["report"]["run"] ("default").


include: "common/report.smk"


rule provenance:
    input:
        scores=report_score_files(),
    output:
        f"{REPORT_DIR}/provenance.json",
    params:
        config=config,
    log:
        f"logs/report/{REPORT_RUN}/provenance.log",
    resources:
        mem_mb=1000,
        runtime=60,  # sha256 of every file under data/raw and data/corpora (GBs for the paper run)
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/provenance.py"


rule report:
    input:
        scores=report_score_files(),
        means=report_means(),
        samples=report_samples_files(),
        provenance=f"{REPORT_DIR}/provenance.json",
    output:
        html=report(f"{REPORT_DIR}/report.html", caption="../report/report.rst", category="Report"),
        md=f"{REPORT_DIR}/report.md",
        figures=report_figures(),
    params:
        config=config,
        # the folder report.html lands in (figures/ beside it), derived from the output
        out_dir=lambda w, output: os.path.dirname(output.html),
    log:
        f"logs/report/{REPORT_RUN}/report.log",
    localrule: True
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/report.py"
