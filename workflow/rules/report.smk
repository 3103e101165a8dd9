# The run report: our scores beside the paper's (HTML + Markdown, figures, the comparison in long
# format) and the provenance record. Everything lands in reports/{run}/ where run = config["report"]["run"].


include: "plans/report.smk"


rule provenance:
    input:
        # the score tables only order the job after every stage (provenance reads none of them)
        scores=report_score_files(),
        models=report_model_dirs(),
        data=provenance_data(),
    output:
        _path("provenance", run=REPORT_RUN),
    log:
        f"logs/report/{REPORT_RUN}/provenance.log",
    benchmark:
        _path("benchmark", job=f"report/{REPORT_RUN}/provenance")
    conda:
        "../../envs/langrep.yaml"
    resources:
        mem_mb=1000,
        runtime=60,  # sha256 of the run's raw and corpus files (GBs for the paper run)
    params:
        config=config,
    script:
        "../scripts/provenance.py"


rule report:
    input:
        scores=report_score_files(),
        means=report_means(),
        models=report_model_dirs(),
        samples=report_samples_files(),
        captions=report_captions(),
        provenance=_path("provenance", run=REPORT_RUN),
    output:
        html=report(_path("report_html", run=REPORT_RUN), caption="../report/report.rst", category="Report"),
        md=_path("report_md", run=REPORT_RUN),
        comparison=_path("report_comparison", run=REPORT_RUN),
        figures=report_figures(),
    log:
        f"logs/report/{REPORT_RUN}/report.log",
    benchmark:
        _path("benchmark", job=f"report/{REPORT_RUN}/report")
    localrule: True
    conda:
        "../../envs/langrep.yaml"
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        config=config,
        # the folder report.html lands in (figures/ beside it), derived from the output
        out_dir=lambda w, output: _os.path.dirname(output.html),
    script:
        "../scripts/report.py"
