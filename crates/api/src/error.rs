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

    /// `BTM004` Already exists (409): a duplicate ID or alias. (Our code; the reference reports these
    /// as internal errors.)
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::CONFLICT,
            code: "BTM004",
            msg: "Already exists",
            detail: detail.into(),
        }
    }

    /// `BTM005` Wallet not open (400): the endpoint needs the node's wallet and this node runs without
    /// one. (Our code; the reference answers an internal error.)
    pub fn no_wallet() -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "BTM005",
            msg: "Wallet not open",
            detail: "this node runs without a wallet; start it with one to use this endpoint".into(),
        }
    }

    /// The error for one of the reference's codes (as the wallet reports them), with the reference's
    /// status and message. `BTM000` is the node failing (500); an unknown code is a refused request (400).
    pub fn from_reference_code(code: &'static str, detail: impl Into<String>) -> ApiError {
        let (status, msg) = reference_info(code);
        ApiError {
            status,
            code,
            msg,
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
            SubmitError::Mempool(MempoolError::View(_)) | SubmitError::Store(_) | SubmitError::Journal(_) => {
                ApiError::internal(detail)
            }
            _ => ApiError::rejected("BTM718", "Transaction rejected", detail),
        }
    }
}

/// The reference's status and message for each code it defines (`api/errors.go`), plus ours.
fn reference_info(code: &str) -> (StatusCode, &'static str) {
    let bad = StatusCode::BAD_REQUEST;
    let msg = match code {
        "BTM000" => return (StatusCode::INTERNAL_SERVER_ERROR, "Bytom API Error"),
        "BTM001" => return (StatusCode::REQUEST_TIMEOUT, "Request timed out"),
        "BTM002" => "Invalid request body",
        "BTM003" => return (StatusCode::NOT_FOUND, "Not found"),
        "BTM004" => return (StatusCode::CONFLICT, "Already exists"),
        "BTM005" => "Wallet not open",
        "BTM200" => {
            "Quorum must be greater than or equal to 1, and must be less than or equal to the length of xpubs"
        }
        "BTM201" => "Invalid xpub format",
        "BTM202" => "At least one xpub is required",
        "BTM203" => "Root XPubs cannot contain the same key more than once",
        "BTM700" => "Funds of account are insufficient",
        "BTM701" => "Available funds of account are immature",
        "BTM702" => "Available UTXOs of account have been reserved",
        "BTM703" => "UTXO with given hash not found",
        "BTM704" => "Locked by the vote",
        "BTM705" => "Account not found",
        "BTM706" => "Asset not found",
        "BTM710" => "Invalid action type",
        "BTM711" => "Invalid action object",
        "BTM712" => "Invalid action construction",
        "BTM713" => "One or more fields are missing",
        "BTM714" => "Invalid asset amount",
        "BTM715" => "Invalid contract argument type",
        "BTM716" => "Transaction input UTXO not found",
        "BTM717" => "Transaction fee exceeded max limit",
        "BTM718" => "Transaction rejected",
        "BTM719" => "Dust Transaction",
        "BTM800" => "Key Alias already exists",
        "BTM801" => "Key not found or wrong password",
        "BTM802" => "Could not decrypt key with given passphrase",
        "BTM860" => return (StatusCode::UNAUTHORIZED, "Request could not be authenticated"),
        _ => "Request refused",
    };
    (bad, msg)
}

/// A REST v1 failure: `{"code": ..., "message": ...}` with the same 4xx status and code as the
/// compatible API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestError(pub ApiError);

impl From<ApiError> for RestError {
    fn from(e: ApiError) -> RestError {
        RestError(e)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RestErrorBody {
    /// The error code (the compatible API's `BTMxxx`).
    pub(crate) code: String,
    /// What was wrong, for humans.
    pub(crate) message: String,
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let e = self.0;
        let message = if e.detail.is_empty() {
            e.msg.to_string()
        } else {
            format!("{}: {}", e.msg, e.detail)
        };
        let body = RestErrorBody {
            code: e.code.to_string(),
            message,
        };
        (e.status, axum::Json(body)).into_response()
    }
}
