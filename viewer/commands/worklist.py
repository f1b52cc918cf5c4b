"""``worklist HOST PORT -k KEY=VALUE... [--json]``: Modality Worklist C-FIND."""

from __future__ import annotations

import argparse

from viewer.commands._netargs import add_key_arguments, add_peer_arguments, node_from_args

HELP = "query a modality worklist (MWL C-FIND), print scheduled procedure steps"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_peer_arguments(parser)
    parser.add_argument("--modality", default="", help="Scheduled Procedure Step Modality")
    parser.add_argument("--station", default="", metavar="AET", help="Scheduled Station AE Title")
    parser.add_argument("--date", default="", metavar="DATE[-DATE]", help="scheduled start date or range")
    parser.add_argument("--patient", default="", metavar="NAME", help="Patient's Name (wildcards allowed)")
    parser.add_argument("--patient-id", default="", metavar="ID")
    parser.add_argument("--accession", default="", metavar="NUMBER")
    add_key_arguments(parser)
    parser.add_argument("--json", action="store_true", help="DICOM JSON model: an array, one object per item")


def run(args: argparse.Namespace) -> int:
    import sys

    from viewer.net.dicomjson import JsonArrayWriter
    from viewer.net.find import parse_keys
    from viewer.net.worklist import WorklistFilter, build_worklist_query, group_by_procedure, worklist

    node = node_from_args(args)
    flt = WorklistFilter(args.modality, args.station, args.date, args.patient, args.patient_id, args.accession,
                         parse_keys(args.key))
    results = worklist(node, args.aet, build_worklist_query(flt))
    if args.json:
        with JsonArrayWriter(sys.stdout) as out:
            for ds in results:
                out.write(ds)
        return 0
    items = list(results)
    for proc in group_by_procedure(items):
        print(proc.label)
        for sps in proc.steps:
            print(f"  step {sps.get('ScheduledProcedureStepID', '')}: {sps.get('Modality', '')} "
                  f"{sps.get('ScheduledStationAETitle', '')} {sps.get('ScheduledProcedureStepStartDate', '')} "
                  f"{sps.get('ScheduledProcedureStepStartTime', '')} "
                  f"{sps.get('ScheduledProcedureStepDescription', '')}")
    print(f"{len(items)} item(s)", file=sys.stderr)
    return 0
