//! The reference's failure shape: `{"status":"fail","code":"BTMxxx","msg":...,"error_detail":...}`,
//! always with a 4xx status for bad input (5xx only when the node itself fails).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ledger::{GasError, TxRejection};
use node::SubmitError;
use node::mempool::MempoolError;
use serde::Serialize;

/// An API failure: HTTP status, the reference's error code and message, and a detail for humans.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} {msg}: {detail}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The reference's code, e.g. `BTM002`.
    pub code: &'static str,
    /// The reference's message for the code.
    pub msg: &'static str,
    /// What exactly was wrong.
    pub detail: String,
}

#[derive(Serialize)]
struct FailBody<'a> {
    status: &'static str,
    code: &'a str,
    msg: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    error_detail: &'a str,
}

impl ApiError {
    /// `BTM002` Invalid request body (400).
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "BTM002",
            msg: "Invalid request body",
            detail: detail.into(),
        }
    }

    /// `BTM002` with 413: the body is larger than allowed.
    pub fn too_large(limit: usize) -> ApiError {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "BTM002",
            msg: "Invalid request body",
            detail: format!("request body larger than {limit} bytes"),
        }
    }

    /// `BTM860` Request could not be authenticated (401).
    pub fn unauthenticated(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "BTM860",
            msg: "Request could not be authenticated",
            detail: detail.into(),
        }
    }

    /// `BTM003` Not found (404): an unknown block, transaction or endpoint. (The reference reports
    /// these as internal errors; the code is ours.)
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "BTM003",
            msg: "Not found",
            detail: detail.into(),
        }
    }

    /// `BTM000` Bytom API Error (500): the node failed, not the request.
    pub fn internal(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "BTM000",
            msg: "Bytom API Error",
            detail: detail.into(),
        }
    }

    fn rejected(code: &'static str, msg: &'static str, detail: String) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code,
            msg,
            detail,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = FailBody {
            status: "fail",
            code: self.code,
            msg: self.msg,
            error_detail: &self.detail,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// The reference's code and message for a transaction rule.
pub fn tx_rejection_code(r: &TxRejection) -> (&'static str, &'static str) {
    match r {
        TxRejection::Version { .. } => ("BTM730", "Invalid transaction version"),
        TxRejection::ZeroSize | TxRejection::TooLarge { .. } => ("BTM731", "Invalid transaction size"),
        TxRejection::TimeRange { .. } => ("BTM732", "Invalid transaction time range"),
        TxRejection::NonStandardInput { .. } | TxRejection::NonStandardOutput { .. } => {
            ("BTM733", "Not standard transaction")
        }
        TxRejection::MisplacedCoinbase { .. } => ("BTM734", "Invalid coinbase transaction"),
        TxRejection::CoinbaseAsset => ("BTM735", "Invalid coinbase assetID"),
        TxRejection::CoinbaseArbitrary { .. } => ("BTM736", "Invalid coinbase arbitrary size"),
        TxRejection::EmptyResults => ("BTM737", "No results in the transaction"),
        TxRejection::NoSource { .. } => ("BTM743", "No source for value"),
        TxRejection::Overflow { .. } => ("BTM744", "Arithmetic overflow/underflow"),
        TxRejection::Unbalanced { .. } | TxRejection::CrossChainAsset { .. } => {
            ("BTM746", "Unbalanced asset amount between input and output")
        }
        TxRejection::Gas(GasError::Overflow) => ("BTM748", "Gas usage calculate got a math error"),
        TxRejection::Gas(_) => ("BTM747", "Gas credit has been spent"),
        TxRejection::VoteAmount { .. } | TxRejection::VoteAsset { .. } | TxRejection::VotePubKey { .. } => {
            ("BTM749", "Invalid vote amount")
        }
        TxRejection::Vm { .. } => ("BTM766", "False result for executing VM"),
        TxRejection::MissingUtxo { .. } | TxRejection::DoubleSpend { .. } => {
            ("BTM716", "Transaction input UTXO not found")
        }
        _ => ("BTM718", "Transaction rejected"),
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> ApiError {
        let detail = e.to_string();
        match e {
            SubmitError::Invalid(r) | SubmitError::Mempool(MempoolError::Invalid(r)) => {
                let (code, msg) = tx_rejection_code(&r);
                ApiError::rejected(code, msg, detail)
            }
            SubmitError::Mempool(MempoolError::UnknownInput { .. }) => {
                ApiError::rejected("BTM716", "Transaction input UTXO not found", detail)
            }
            SubmitError::Mempool(MempoolError::View(_)) | SubmitError::Store(_) => ApiError::internal(detail),
            _ => ApiError::rejected("BTM718", "Transaction rejected", detail),
        }
    }
}
