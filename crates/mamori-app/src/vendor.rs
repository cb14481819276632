//! What a 事業者 (vendor) user sees: the devices its company maintains (the ledger's 保守事業者
//! column), the inquiries addressed to it, and the findings those inquiries ask about —
//! nothing of another company's. Users who may view everything see every device and inquiry
//! through the same calls, so an edge can serve both from one page.

use mamori_core::access::{any_allows, Permission};
use mamori_store::{AssetFilter, Finding, Inquiry, StoredAsset};

use crate::inquiries::same_vendor;
use crate::{App, AppError, Result};

impl App {
    /// The company a user is confined to: `Some` for a user who may answer inquiries but not
    /// view the ledger (the 事業者 role); `None` for one who sees everything.
    pub fn vendor_company(&self) -> Option<String> {
        (!any_allows(&self.roles, Permission::View))
            .then(|| self.vendor.clone().unwrap_or_default())
    }

    fn require_own_view(&self) -> Result<Option<String>> {
        if any_allows(&self.roles, Permission::View) {
            self.require(Permission::View)?;
            return Ok(None);
        }
        self.require(Permission::RecordVendorAnswer)?;
        Ok(self.vendor_company())
    }

    /// The devices the user may see (a 事業者 user: its company's, not retired), by 管理番号.
    pub fn own_assets(&mut self) -> Result<Vec<StoredAsset>> {
        let company = self.require_own_view()?;
        let all = self.store.begin_read()?.assets(&AssetFilter::default())?;
        Ok(match company {
            None => all,
            Some(c) => all
                .into_iter()
                .filter(|a| a.asset.status != mamori_core::AssetStatus::Retired)
                .filter(|a| {
                    a.asset
                        .vendor
                        .as_deref()
                        .is_some_and(|v| same_vendor(v, &c))
                })
                .collect(),
        })
    }

    /// One device the user may see, with the findings it may see on it (a 事業者 user: those
    /// its inquiries ask about). Another company's device is "not found", exactly like a
    /// 管理番号 that does not exist, so ids cannot be probed.
    pub fn own_asset(&mut self, asset_id: &str) -> Result<(StoredAsset, Vec<Finding>)> {
        let company = self.require_own_view()?;
        let tx = self.store.begin_read()?;
        let stored = tx
            .asset(asset_id)?
            .filter(|a| match &company {
                None => true,
                Some(c) => {
                    a.asset.status != mamori_core::AssetStatus::Retired
                        && a.asset.vendor.as_deref().is_some_and(|v| same_vendor(v, c))
                }
            })
            .ok_or_else(|| AppError::AssetNotFound(asset_id.to_string()))?;
        let asked: Option<Vec<i64>> = match &company {
            None => None,
            Some(c) => Some(
                tx.inquiries()?
                    .into_iter()
                    .filter(|q| same_vendor(&q.vendor, c))
                    .flat_map(|q| q.items.into_iter().map(|i| i.finding))
                    .collect(),
            ),
        };
        let findings = tx
            .findings(Some(stored.id))?
            .into_iter()
            .filter(|f| f.status == "open")
            .filter(|f| asked.as_ref().is_none_or(|ids| ids.contains(&f.id)))
            .collect();
        Ok((stored, findings))
    }

    /// The inquiries the user may see (a 事業者 user: those addressed to its company), newest
    /// first, each with its findings.
    pub fn own_inquiries(&mut self) -> Result<Vec<(Inquiry, Vec<Finding>)>> {
        let company = self.require_own_view()?;
        let tx = self.store.begin_read()?;
        let mut out = Vec::new();
        for q in tx.inquiries()? {
            if company.as_ref().is_some_and(|c| !same_vendor(&q.vendor, c)) {
                continue;
            }
            let mut findings = Vec::new();
            for i in &q.items {
                if let Some(f) = tx.finding(i.finding)? {
                    findings.push(f);
                }
            }
            out.push((q, findings));
        }
        Ok(out)
    }
}
