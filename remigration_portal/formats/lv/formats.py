# Numeric dates as Latvian public bodies write them; times on the 24-hour clock.
DATE_FORMAT = "d.m.Y."
SHORT_DATE_FORMAT = "d.m.Y."
DATETIME_FORMAT = "d.m.Y. H:i"
SHORT_DATETIME_FORMAT = "d.m.Y. H:i"
TIME_FORMAT = "H:i"
DATE_INPUT_FORMATS = ["%d.%m.%Y.", "%d.%m.%Y", "%Y-%m-%d"]
DATETIME_INPUT_FORMATS = [
    "%d.%m.%Y. %H:%M",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
]
DECIMAL_SEPARATOR = ","
# A no-break space: a number never breaks across lines.
THOUSAND_SEPARATOR = "\u00a0"
NUMBER_GROUPING = 3
FIRST_DAY_OF_WEEK = 1
