"""Frames to and from the history store's rows: kept frames as JSON, rankings as (unit, metric) records
and back to one row per unit, and ISO date text as dates."""

from __future__ import annotations

import datetime as dt
import json
import math

from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import METRICS


def frame_to_json(frame: pd.DataFrame) -> str:
    """A frame of text, number and date columns as JSON (not pickle: a store is data, never code)."""
    columns = []
    for name in frame.columns:
        values = frame[name].astype(object).tolist()
        dates = all(v is None or isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in values)
        values = [None if v is None or (isinstance(v, float) and math.isnan(v)) else
                  v.isoformat() if dates else v for v in values]
        columns.append({"name": name, "dtype": str(frame[name].dtype), "dates": dates, "values": values})
    return json.dumps({"index": frame.index.astype(object).tolist(), "index_dtype": str(frame.index.dtype),
                       "columns": columns}, ensure_ascii=False)


def json_columns(text: str, names: tuple[str, ...]) -> dict[str, list | None]:
    """Some columns of a frame frame_to_json wrote, as lists of its values (None for a column it lacks),
    without building the frame."""
    columns = {column["name"]: column["values"] for column in json.loads(text)["columns"]}
    return {name: columns.get(name) for name in names}


def frame_from_json(text: str) -> pd.DataFrame:
    """The frame frame_to_json wrote."""
    data = json.loads(text)
    frame = pd.DataFrame(index=pd.Index(data["index"], dtype=data["index_dtype"]))
    for column in data["columns"]:
        values = column["values"]
        if column["dates"]:
            values = [None if v is None else dt.date.fromisoformat(v) for v in values]
        frame[column["name"]] = pd.Series(values, index=frame.index, dtype=column["dtype"])
    return frame


def rank_records(ranking: pd.DataFrame) -> list[tuple]:
    """(unit, metric, value, rank, flag) of every unit and metric of a ranking, NaN as None."""
    records = []
    for row in ranking.to_dict("records"):
        for key in (*(key for key, _ in METRICS), "composite"):
            value, rank = row[key], row[f"{key}_rank"]
            records.append((row["unit"], key, None if pd.isna(value) else value, None if pd.isna(rank) else rank,
                            row.get(f"{key}_flag", "")))
    return records


def wide_ranks(frame: pd.DataFrame) -> pd.DataFrame:
    """Stored (unit, metric, rank) rows as one row per unit with columns {metric}_rank."""
    if frame.empty:
        return pd.DataFrame(columns=["unit"])
    wide = frame.pivot(index="unit", columns="metric", values="rank")
    return wide.rename(columns=lambda m: f"{m}_rank").reset_index().rename_axis(None, axis=1)


def with_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """ISO text columns as datetime.date objects (None where empty)."""
    for column in ("report_date", "net_land_date"):
        frame[column] = [dt.date.fromisoformat(v) if isinstance(v, str) and v else None for v in frame[column]]
    return frame
