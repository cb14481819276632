//! The ledger's canonical columns, the headers people write for them, and the mapping of
//! a file's header row onto them.

use std::collections::HashMap;

use mamori_core::value::normalize_token;
use mamori_core::Lang;
use serde::Deserialize;

use crate::problem::{Problem, ProblemKind};
use crate::table::{Cell, Table};

/// One canonical ledger column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Field {
    AssetId,
    Kind,
    Name,
    Purpose,
    Department,
    Location,
    Owner,
    Manufacturer,
    Model,
    Os,
    OsVersion,
    Software,
    Cpe,
    Hostname,
    Ip,
    Mac,
    Status,
    Vendor,
    VendorContact,
    RemoteMaintenance,
    ExternalAccess,
    EosDate,
    Schedule,
    Criticality,
    PatientData,
    ScanExclude,
    BootPassword,
    DefaultPasswordChanged,
    MdsSds,
    Sbom,
    LastStocktake,
    Notes,
}

struct Spec {
    field: Field,
    ja: &'static str,
    en: &'static str,
    synonyms: &'static [&'static str],
    max_len: usize,
}

const SHORT: usize = 200;
const MEDIUM: usize = 1_000;
const LONG: usize = 10_000;

/// The longest value accepted in a custom (unknown) column.
pub const CUSTOM_MAX_LEN: usize = LONG;

/// The canonical columns in export order, with the synonyms accepted on import.
const SPECS: &[Spec] = &[
    Spec {
        field: Field::AssetId,
        ja: "管理番号",
        en: "asset_id",
        synonyms: &[
            "資産番号",
            "機器番号",
            "管理No",
            "管理No.",
            "管理ID",
            "asset id",
            "asset no",
            "asset number",
        ],
        max_len: 100,
    },
    Spec {
        field: Field::Kind,
        ja: "機器種別",
        en: "kind",
        synonyms: &[
            "種別",
            "機器分類",
            "分類",
            "種類",
            "device type",
            "type",
            "category",
        ],
        max_len: 100,
    },
    Spec {
        field: Field::Name,
        ja: "機器名",
        en: "name",
        synonyms: &["機器名称", "名称", "品名", "device name", "device"],
        max_len: SHORT,
    },
    Spec {
        field: Field::Purpose,
        ja: "用途",
        en: "purpose",
        synonyms: &["使用目的", "目的", "usage"],
        max_len: MEDIUM,
    },
    Spec {
        field: Field::Department,
        ja: "部署",
        en: "department",
        synonyms: &[
            "設置部署",
            "部門",
            "所属",
            "所属部署",
            "管理部署",
            "診療科",
            "dept",
            "division",
        ],
        max_len: SHORT,
    },
    Spec {
        field: Field::Location,
        ja: "設置場所",
        en: "location",
        synonyms: &["場所", "設置先", "所在", "所在地", "部屋", "room", "place"],
        max_len: SHORT,
    },
    Spec {
        field: Field::Owner,
        ja: "管理責任者",
        en: "owner",
        synonyms: &[
            "担当者",
            "責任者",
            "管理者",
            "管理担当者",
            "person in charge",
            "responsible",
        ],
        max_len: SHORT,
    },
    Spec {
        field: Field::Manufacturer,
        ja: "メーカー",
        en: "manufacturer",
        synonyms: &["メーカ", "製造元", "製造業者", "製造販売業者", "maker"],
        max_len: SHORT,
    },
    Spec {
        field: Field::Model,
        ja: "型番",
        en: "model",
        synonyms: &[
            "型式",
            "機種",
            "機種名",
            "モデル",
            "製品名",
            "product",
            "model number",
        ],
        max_len: SHORT,
    },
    Spec {
        field: Field::Os,
        ja: "OS・ファームウェア",
        en: "os",
        synonyms: &[
            "OS",
            "ファームウェア",
            "firmware",
            "OS名",
            "オペレーティングシステム",
            "operating system",
            "OS/ファームウェア",
        ],
        max_len: SHORT,
    },
    Spec {
        field: Field::OsVersion,
        ja: "バージョン",
        en: "os_version",
        synonyms: &[
            "version",
            "ver",
            "ver.",
            "OSバージョン",
            "ファームウェアバージョン",
            "firmware version",
            "版",
        ],
        max_len: SHORT,
    },
    Spec {
        field: Field::Software,
        ja: "ソフトウェア",
        en: "software",
        synonyms: &[
            "インストールソフト",
            "導入ソフトウェア",
            "アプリケーション",
            "applications",
            "installed software",
        ],
        max_len: LONG,
    },
    Spec {
        field: Field::Cpe,
        ja: "CPE",
        en: "cpe",
        synonyms: &["CPE名", "cpe name"],
        max_len: LONG,
    },
    Spec {
        field: Field::Hostname,
        ja: "ホスト名",
        en: "hostname",
        synonyms: &[
            "ホスト",
            "コンピュータ名",
            "コンピューター名",
            "host",
            "host name",
            "computer name",
        ],
        max_len: MEDIUM,
    },
    Spec {
        field: Field::Ip,
        ja: "IPアドレス",
        en: "ip",
        synonyms: &[
            "IP",
            "IP Address",
            "IPaddress",
            "IPアドレス",
            "アドレス",
            "ip addresses",
        ],
        max_len: MEDIUM,
    },
    Spec {
        field: Field::Mac,
        ja: "MACアドレス",
        en: "mac",
        synonyms: &["MAC", "MAC Address", "物理アドレス"],
        max_len: MEDIUM,
    },
    Spec {
        field: Field::Status,
        ja: "状態",
        en: "status",
        synonyms: &["ステータス", "稼働状況", "稼働状態", "使用状況"],
        max_len: 100,
    },
    Spec {
        field: Field::Vendor,
        ja: "保守事業者",
        en: "vendor",
        synonyms: &[
            "保守業者",
            "保守会社",
            "保守ベンダー",
            "事業者",
            "ベンダー",
            "maintenance vendor",
            "maintainer",
        ],
        max_len: SHORT,
    },
    Spec {
        field: Field::VendorContact,
        ja: "事業者連絡先",
        en: "vendor_contact",
        synonyms: &["連絡先", "保守連絡先", "vendor contact"],
        max_len: MEDIUM,
    },
    Spec {
        field: Field::RemoteMaintenance,
        ja: "リモートメンテナンス",
        en: "remote_maintenance",
        synonyms: &[
            "リモート保守",
            "リモートメンテ",
            "遠隔保守",
            "remote maintenance",
        ],
        max_len: 100,
    },
    Spec {
        field: Field::ExternalAccess,
        ja: "外部接続",
        en: "external_access",
        synonyms: &["外部接続有無", "インターネット接続", "external access"],
        max_len: 100,
    },
    Spec {
        field: Field::EosDate,
        ja: "サポート終了日",
        en: "eos_date",
        synonyms: &[
            "EOS",
            "EOL",
            "サポート終了",
            "サポート期限",
            "end of support",
            "eos date",
        ],
        max_len: 100,
    },
    Spec {
        field: Field::Schedule,
        ja: "稼働時間帯",
        en: "schedule",
        synonyms: &[
            "稼働時間",
            "運用時間",
            "稼働スケジュール",
            "operating hours",
        ],
        max_len: SHORT,
    },
    Spec {
        field: Field::Criticality,
        ja: "重要度",
        en: "criticality",
        synonyms: &["重要性", "重要区分", "importance"],
        max_len: 100,
    },
    Spec {
        field: Field::PatientData,
        ja: "患者情報",
        en: "patient_data",
        synonyms: &["患者情報の有無", "個人情報", "patient data"],
        max_len: 100,
    },
    Spec {
        field: Field::ScanExclude,
        ja: "スキャン除外",
        en: "scan_exclude",
        synonyms: &[
            "スキャン対象外",
            "スキャン禁止",
            "scan exclude",
            "do not scan",
            "fragile",
        ],
        max_len: 100,
    },
    Spec {
        field: Field::BootPassword,
        ja: "起動時パスワード",
        en: "boot_password",
        synonyms: &["起動パスワード", "BIOSパスワード", "boot password"],
        max_len: 100,
    },
    Spec {
        field: Field::DefaultPasswordChanged,
        ja: "出荷時パスワード変更",
        en: "default_password_changed",
        synonyms: &[
            "初期パスワード変更",
            "デフォルトパスワード変更",
            "default password changed",
        ],
        max_len: 100,
    },
    Spec {
        field: Field::MdsSds,
        ja: "MDS/SDS",
        en: "mds_sds",
        synonyms: &["MDS", "SDS", "MDS・SDS"],
        max_len: 100,
    },
    Spec {
        field: Field::Sbom,
        ja: "SBOM",
        en: "sbom",
        synonyms: &[],
        max_len: 100,
    },
    Spec {
        field: Field::LastStocktake,
        ja: "棚卸日",
        en: "last_stocktake",
        synonyms: &["最終棚卸日", "棚卸し日", "棚卸実施日", "stocktake date"],
        max_len: 100,
    },
    Spec {
        field: Field::Notes,
        ja: "備考",
        en: "notes",
        synonyms: &["メモ", "コメント", "remarks", "note", "memo"],
        max_len: LONG,
    },
];

impl Field {
    /// Every canonical column, in export order.
    pub fn all() -> impl Iterator<Item = Field> {
        SPECS.iter().map(|s| s.field)
    }

    fn spec(self) -> &'static Spec {
        SPECS
            .iter()
            .find(|s| s.field == self)
            .expect("every field has a spec")
    }

    /// The header for this column in the given language.
    pub fn header(self, lang: Lang) -> &'static str {
        let spec = self.spec();
        lang.pick(spec.ja, spec.en)
    }

    /// The English column name, as used in JSON and `--set name=value`.
    pub fn code(self) -> &'static str {
        self.spec().en
    }

    /// The longest value accepted, in characters.
    pub fn max_len(self) -> usize {
        self.spec().max_len
    }

    /// Finds the column a header names: a Japanese or English canonical header or a
    /// synonym; width, case, spaces and separators are ignored.
    pub fn from_header(header: &str) -> Option<Field> {
        let wanted = normalize_token(header);
        if wanted.is_empty() {
            return None;
        }
        SPECS.iter().map(|s| s.field).find(|f| {
            let spec = f.spec();
            normalize_token(spec.ja) == wanted
                || normalize_token(spec.en) == wanted
                || spec.synonyms.iter().any(|s| normalize_token(s) == wanted)
        })
    }
}

/// A user's header mapping (`--mapping FILE`, TOML):
///
/// ```toml
/// [columns]
/// "資産No" = "管理番号"      # map onto a canonical column (Japanese or English name)
/// "利用部署名" = "department"
/// "旧番号" = "ignore"        # drop this column
/// ```
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    columns: HashMap<String, Target>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    Field(Field),
    Ignore,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    columns: HashMap<String, String>,
}

/// Why a mapping file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// Not valid TOML of the expected shape.
    #[error("mapping file: {0}")]
    Syntax(String),
    /// A target that is not a column name.
    #[error("mapping file: unknown column {target} for header {header}")]
    UnknownTarget {
        /// The header in the user's file.
        header: String,
        /// The column name that is not known.
        target: String,
    },
}

impl MappingError {
    /// A message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (MappingError::Syntax(d), Lang::Ja) => format!(
                "対応表ファイルが読めません: {d}\n形式: [columns] の下に \"元の見出し\" = \"管理番号\" のように書いてください"
            ),
            (MappingError::Syntax(d), Lang::En) => format!(
                "cannot read the mapping file: {d}\nformat: under [columns], write \"your header\" = \"asset_id\""
            ),
            (MappingError::UnknownTarget { header, target }, Lang::Ja) => format!(
                "対応表: 見出し「{header}」の対応先「{target}」は台帳の列名ではありません。列名は `mamori ledger columns` で確認できます (列を捨てるなら \"ignore\")"
            ),
            (MappingError::UnknownTarget { header, target }, Lang::En) => format!(
                "mapping: \"{target}\" (for header \"{header}\") is not a ledger column; see `mamori ledger columns` (or use \"ignore\" to drop it)"
            ),
        }
    }
}

impl Mapping {
    /// Parses a mapping file's text.
    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        let raw: RawMapping =
            toml::from_str(text).map_err(|e| MappingError::Syntax(e.message().to_string()))?;
        let mut columns = HashMap::new();
        for (header, target) in raw.columns {
            let t = if normalize_token(&target) == "ignore" {
                Target::Ignore
            } else {
                Target::Field(Field::from_header(&target).ok_or_else(|| {
                    MappingError::UnknownTarget {
                        header: header.clone(),
                        target: target.clone(),
                    }
                })?)
            };
            columns.insert(normalize_token(&header), t);
        }
        Ok(Mapping { columns })
    }

    fn lookup(&self, header: &str) -> Option<Target> {
        self.columns.get(&normalize_token(header)).copied()
    }
}

/// What one column of the file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRole {
    /// A canonical column.
    Field(Field),
    /// A column mamori has no field for; kept as a custom attribute under its header.
    Custom(String),
    /// Dropped (blank header over blank cells, or `ignore` in the mapping).
    Ignored,
}

/// The header row of a file and what each of its columns holds.
#[derive(Debug, Clone)]
pub struct HeaderMap {
    /// Index into [`Table::rows`] of the header row.
    pub header_index: usize,
    /// The header text of each column, as written.
    pub headers: Vec<String>,
    /// What each column holds.
    pub roles: Vec<ColumnRole>,
}

/// How many rows from the top are searched for the header row (title rows above the
/// header, such as 「機器台帳 令和7年度」, are common).
pub const HEADER_SEARCH_ROWS: usize = 20;

impl HeaderMap {
    /// Finds the header row and maps its columns. Problems that make the file unusable
    /// (no header row, a required column missing, a header twice, data under a blank
    /// header) are returned as errors; unknown headers come back as warnings.
    pub fn detect(
        table: &Table,
        mapping: &Mapping,
    ) -> Result<(HeaderMap, Vec<Problem>), Vec<Problem>> {
        let classify = |text: &str| -> Option<Target> {
            mapping
                .lookup(text)
                .or_else(|| Field::from_header(text).map(Target::Field))
        };
        let header_index = table
            .rows
            .iter()
            .take(HEADER_SEARCH_ROWS)
            .position(|row| {
                let targets: Vec<Target> = row.iter().filter_map(|c| classify(&c.text())).collect();
                targets.contains(&Target::Field(Field::AssetId))
                    || targets.contains(&Target::Field(Field::Name))
                    || targets
                        .iter()
                        .filter(|t| matches!(t, Target::Field(_)))
                        .count()
                        >= 3
            })
            .ok_or_else(|| vec![Problem::file(ProblemKind::NoHeaderRow)])?;
        let header_row = &table.rows[header_index];
        let width = table.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut headers = Vec::with_capacity(width);
        let mut roles = Vec::with_capacity(width);
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut seen: HashMap<Field, usize> = HashMap::new();
        let mut seen_custom: HashMap<String, usize> = HashMap::new();
        for col in 0..width {
            let text = header_row.get(col).map(Cell::text).unwrap_or_default();
            let header_problem = |kind| Problem::header(table, header_index, col, &text, kind);
            let role = if text.is_empty() {
                let has_data = table.rows[header_index + 1..]
                    .iter()
                    .any(|r| r.get(col).is_some_and(|c| !c.is_blank()));
                if has_data {
                    errors.push(header_problem(ProblemKind::BlankHeader));
                }
                ColumnRole::Ignored
            } else {
                match classify(&text) {
                    Some(Target::Field(f)) => {
                        if let Some(first) = seen.insert(f, col) {
                            errors.push(header_problem(ProblemKind::DuplicateHeader {
                                first_column: table.column_letter(first),
                                field: f,
                            }));
                        }
                        ColumnRole::Field(f)
                    }
                    Some(Target::Ignore) => ColumnRole::Ignored,
                    None => {
                        if let Some(first) = seen_custom.insert(normalize_token(&text), col) {
                            errors.push(header_problem(ProblemKind::DuplicateCustomHeader {
                                first_column: table.column_letter(first),
                            }));
                        }
                        warnings.push(header_problem(ProblemKind::UnknownHeader));
                        ColumnRole::Custom(text.clone())
                    }
                }
            };
            headers.push(text);
            roles.push(role);
        }
        for required in [Field::AssetId, Field::Name] {
            if !seen.contains_key(&required) {
                errors.push(Problem::file(ProblemKind::MissingColumn(required)));
            }
        }
        if errors.is_empty() {
            Ok((
                HeaderMap {
                    header_index,
                    headers,
                    roles,
                },
                warnings,
            ))
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_both_languages_and_synonyms() {
        assert_eq!(Field::from_header("管理番号"), Some(Field::AssetId));
        assert_eq!(Field::from_header("asset_id"), Some(Field::AssetId));
        assert_eq!(Field::from_header("ＩＰアドレス"), Some(Field::Ip));
        assert_eq!(Field::from_header("IP Address"), Some(Field::Ip));
        assert_eq!(Field::from_header("設置部署"), Some(Field::Department));
        assert_eq!(Field::from_header("担当者"), Some(Field::Owner));
        assert_eq!(Field::from_header("ホスト"), Some(Field::Hostname));
        assert_eq!(Field::from_header("MDS/SDS"), Some(Field::MdsSds));
        assert_eq!(Field::from_header("OS・ファームウェア"), Some(Field::Os));
        assert_eq!(Field::from_header("購入金額"), None);
    }

    #[test]
    fn no_header_maps_to_two_fields() {
        let mut seen = HashMap::new();
        for spec in SPECS {
            for h in [spec.ja, spec.en].iter().chain(spec.synonyms) {
                if let Some(other) = seen.insert(normalize_token(h), spec.field) {
                    assert_eq!(other, spec.field, "{h} maps to two fields");
                }
            }
        }
    }

    #[test]
    fn mapping_files() {
        let m = Mapping::parse("[columns]\n\"資産No\" = \"管理番号\"\n\"旧番号\" = \"ignore\"\n")
            .unwrap();
        assert_eq!(m.lookup("資産ｎｏ"), Some(Target::Field(Field::AssetId)));
        assert_eq!(m.lookup("旧番号"), Some(Target::Ignore));
        assert!(matches!(
            Mapping::parse("[columns]\n\"x\" = \"nonsense\"\n"),
            Err(MappingError::UnknownTarget { .. })
        ));
        assert!(matches!(
            Mapping::parse("[columns\n"),
            Err(MappingError::Syntax(_))
        ));
    }
}
