"""Hand-made files in the layouts of ACLED and UCDP GED, with the quirks real files have: a
byte order mark, Windows line ends, quoted commas and quotes, a field over several lines,
empty fields, several date layouts in one column. The rows are invented (ACLED's terms
forbid redistributing its own); the places and actors are the seed's."""

from __future__ import annotations

from pathlib import Path

ACLED_HEADER = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
    "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,"
    "iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,"
    "source,source_scale,notes,fatalities,tags,timestamp"
)
UA = "Military Forces of Ukraine (2019-)"
RU = "Military Forces of Russia (2000-)"
KP = "Military Forces of North Korea (2011-)"
PLEKHOVO_CLASH = (
    f'RUS1001,2024-11-21,2024,1,Political violence,Battles,Armed clash,"{UA}",,State forces,'
    f'"{RU}","{KP}",State forces,State forces-State forces,,643,Europe,Russia,Kursk,'
    "Sudzhanskiy,,Plekhovo,51.1892,35.1469,1,Ministry of Defence of Russia; Ukrainska Pravda,"
    'National-International,"On 21 November 2024, Ukrainian forces clashed with Russian and '
    'North Korean forces near Plekhovo, Kursk.\r\nThe ""Sever"" group claimed the attack was '
    'repelled.",{fatalities},,1732600920'
)
BERDIANSK_SHELLING = (
    "UKR2002,22 November 2024,2024,2,Political violence,Explosions/Remote violence,"
    f'Shelling/artillery/missile attack,"{UA}",,State forces,"Civilians (Ukraine)",,'
    "Civilians,State forces-Civilians,Civilian targeting,804,Europe,Ukraine,Zaporizhia,"
    "Berdianskyi,Berdianska,Berdiansk,46.7553,36.7886,2,Telegram,New media,"
    '"Loud explosion reported near the port, fires extinguished.",0,,1732600920'
)
DARINO_RETAKEN = (
    "RUS1003,21-November-2024,2024,3,Political violence,Battles,Government regains territory,"
    f'"{RU}",,State forces,"{UA}",,State forces,State forces-State forces,,643,Europe,Russia,'
    "Kursk,Sudzhanskiy,,Darino,51.2086,35.1167,3,Ministry of Defence of Russia,National,"
    ",0,,1732600920"
)
KURAKHOVE_LOOTING = (
    "UKR2004,2024-11-20,2024,1,Strategic developments,Strategic developments,"
    f'Looting/property destruction,"{RU}",,State forces,,,,State forces only,,804,Europe,'
    "Ukraine,Donetsk,Pokrovskyi,,Kurakhove,47.9839,37.2817,1,Ukrinform,National,,0,,"
)
ACLED_ROWS = (PLEKHOVO_CLASH, BERDIANSK_SHELLING, DARINO_RETAKEN, KURAKHOVE_LOOTING)
SUDZHA_CLASH = (
    f'RUS1007,2024-11-24,2024,1,Political violence,Battles,Armed clash,"{RU}",,State forces,'
    f'"{UA}",,State forces,State forces-State forces,,643,Europe,Russia,Kursk,Sudzhanskiy,,'
    "Sudzha,51.1903,35.2717,1,Ukrainska Pravda,National,,3,,1732860120"
)
ACLED_DELETED = "event_id_cnty,deleted_timestamp\r\nUKR2004,1733205720\r\nUKR9999,1733205720\r\n"
# Line numbers count the header as 1: the clash's notes run over two lines (2 and 3).
ACLED_BROKEN_ROWS = (
    PLEKHOVO_CLASH.format(fatalities=12),
    BERDIANSK_SHELLING.replace("22 November 2024", "31 November 2024"),
    DARINO_RETAKEN.replace(",3,Ministry", ",9,Ministry"),
    KURAKHOVE_LOOTING.replace("47.9839", "north"),
)

GED_HEADER = (
    "id,relid,year,active_year,code_status,type_of_violence,conflict_new_id,conflict_name,"
    "dyad_new_id,dyad_name,side_a,side_b,number_of_sources,source_article,source_office,"
    "source_date,source_headline,source_original,where_prec,where_coordinates,"
    "where_description,adm_1,adm_2,latitude,longitude,geom_wkt,country,country_id,region,"
    "event_clarity,date_prec,date_start,date_end,deaths_a,deaths_b,deaths_civilians,"
    "deaths_unknown,best,high,low"
)
GED_CONFLICT = (
    '13243,"Russia - Ukraine",15423,"Government of Russia (Soviet Union) - Government of '
    'Ukraine","Government of Russia (Soviet Union)","Government of Ukraine"'
)
KURAKHOVE_FIGHTING = (
    f"512345,UKR-2024-1-555-12,2024,1,Clear,1,{GED_CONFLICT},2,"
    '"Reuters,2024-11-21,""Russian forces press on Kurakhove"";BBC Monitoring,2024-11-23",'
    '"Reuters;BBC Monitoring","2024-11-21;2024-11-23",'
    '"Russian forces press on Kurakhove;Fighting near Kurakhove","Ukrainian General Staff;RIA",'
    '2,Kurakhove town,"Kurakhove, near the town\'s power plant",Donetsk oblast,'
    "Pokrovsk raion,47.9839,37.2817,POINT (37.2817 47.9839),Ukraine,369,Europe,1,2,"
    "2024-11-20 00:00:00.000,2024-11-22 00:00:00.000,{deaths_a},3,1,0,{best},21,4"
)
BERDIANSK_ONE_SIDED = (
    '512346,UKR-2024-3-777-1,2024,1,Clear,3,14000,"Government of Russia (Soviet Union) - '
    'Civilians",16000,"Government of Russia (Soviet Union) - Civilians",'
    '"Government of Russia (Soviet Union)",Civilians,1,,,,,Ukrinform,1,Berdiansk town,'
    ",Zaporizhzhia oblast,,46.7553,36.7886,POINT (36.7886 46.7553),Ukraine,369,Europe,1,1,"
    "11/22/2024,11/22/2024,0,0,2,0,2,3,2"
)
SUDZHA_FIGHTING = (
    f"512347,RUS-2024-1-555-3,2024,1,Clear,1,{GED_CONFLICT},1,,,2024-11-19,,"
    'Russian Ministry of Defence,3,Sudzhanskiy district,"Shelling around Sudzha,\n'
    'the ""Kursk direction""",Kursk oblast,Sudzhanskiy district,51.1903,35.2717,'
    "POINT (35.2717 51.1903),Russia,365,Europe,2,3,2024-11-19,2024-11-19,4,2,0,0,6,9,6"
)
GED_BROKEN_ROWS = (
    KURAKHOVE_FIGHTING.format(deaths_a=5, best=9),
    BERDIANSK_ONE_SIDED.replace(",Clear,3,", ",Clear,4,"),
    SUDZHA_FIGHTING.replace(",6,9,6", ",12,9,6"),
)


def acled_file(folder: Path, name: str, rows: tuple[str, ...], **values: int) -> Path:
    """An ACLED export as its website gives it: a BOM, then Windows line ends."""
    values = {"fatalities": 12} | values
    lines = (row.format(**values) if "{" in row else row for row in rows)
    text = "\r\n".join((ACLED_HEADER, *lines))
    path = folder / name
    path.write_bytes(b"\xef\xbb\xbf" + (text + "\r\n").encode())
    return path


def acled_deleted_file(folder: Path) -> Path:
    path = folder / "acled-deleted.csv"
    path.write_bytes(ACLED_DELETED.encode())
    return path


def ged_file(folder: Path, name: str, rows: tuple[str, ...], **values: int) -> Path:
    """A GED release: Unix line ends, except inside a quoted description."""
    values = {"deaths_a": 5, "best": 9} | values
    lines = (row.format(**values) if "{" in row else row for row in rows)
    text = "\n".join((GED_HEADER, *lines))
    path = folder / name
    path.write_text(text + "\n", encoding="utf-8")
    return path


GED_ROWS = (KURAKHOVE_FIGHTING, BERDIANSK_ONE_SIDED, SUDZHA_FIGHTING)
