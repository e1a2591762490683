"""`python report.py PATH... [--by method,space,ops,data,hparams] [--out DIR]`: a study's tables,
correlations and figures from its trial records (see README.md, "Study reports")."""

from dasip.study.report import main

if __name__ == "__main__":
    raise SystemExit(main())
