// The fits behind LIME and KernelSHAP, in float64, written to give the same coefficients as the
// scikit-learn estimators the reference tools use:
//   weightedLinearRegression  sklearn LinearRegression(sample_weight) — Captum's KernelShap
//   weightedRidge             sklearn Ridge(alpha, sample_weight)     — the lime package's default
//   weightedLasso             sklearn Lasso(alpha, sample_weight)     — Captum's Lime default
//   constrainedShapleyFit     KernelSHAP's weighted least squares with Σφ = f(x) − f(∅) (as in shap)
// Least squares use a singular value decomposition (one-sided Jacobi), so rank-deficient designs get
// the minimum-norm solution, as LAPACK's gelsd does for scikit-learn.

export interface LinearFit {
  coef: number[];
  intercept: number;
}

type Rows = ArrayLike<ArrayLike<number>>;

function checkShapes(X: Rows, y: ArrayLike<number>, w: ArrayLike<number>): [number, number] {
  const m = X.length;
  if (m === 0) throw new RangeError('no samples to fit');
  const n = X[0]!.length;
  if (y.length !== m || w.length !== m) throw new RangeError(`X has ${m} rows, y ${y.length}, weights ${w.length}`);
  for (let i = 0; i < m; i++) {
    if (X[i]!.length !== n) throw new RangeError(`row ${i} of X has ${X[i]!.length} values, not ${n}`);
    if (!(w[i]! >= 0) || !Number.isFinite(w[i]!)) throw new RangeError(`weight ${i} is ${w[i]}; weights must be finite and >= 0`);
  }
  return [m, n];
}

/**
 * Minimum-norm least-squares solution of A x ≈ b, A given as `n` columns of length m.
 * Singular values below rcond·σ_max count as zero (rcond defaults to machine epsilon × max(m, n)).
 */
export function lstsq(columns: Float64Array[], b: ArrayLike<number>, rcond?: number): Float64Array {
  const n = columns.length;
  const m = b.length;
  if (m < n) return lstsqWide(columns, b, rcond);
  // A V = U with orthogonal columns u_j (‖u_j‖ = σ_j): x = Σ_j (u_j · b) / σ_j² · v_j.
  const { U, V } = jacobi(columns.map((c) => Float64Array.from(c)), n);
  return pseudoInverse(U, U, V, b, n, rcond ?? Number.EPSILON * Math.max(m, n));
}

/**
 * The same for fewer equations than unknowns (m < n, e.g. 100 samples for 126 tokens): the Jacobi
 * rotations run on the m rows of A instead of its n columns (m² pairs instead of n²). With the rows
 * rotated into R = V'ᵀA (orthogonal rows, ‖r_j‖ = σ_j), the minimum-norm solution is
 * x = Σ_j (v'_j · b) / σ_j² · r_j.
 */
function lstsqWide(columns: Float64Array[], b: ArrayLike<number>, rcond?: number): Float64Array {
  const n = columns.length;
  const m = b.length;
  const rows = Array.from({ length: m }, (_, i) => Float64Array.from(columns, (c) => c[i]!));
  const { U: R, V } = jacobi(rows, m);
  return pseudoInverse(R, V, R, b, n, rcond ?? Number.EPSILON * Math.max(m, n));
}

/**
 * x = Σ_j (p_j · b) / σ_j² · q_j over the singular values σ_j = ‖s_j‖ above rcond·σ_max: the
 * minimum-norm solution once A's SVD is held as orthogonal vectors s_j with their two factors.
 */
function pseudoInverse(S: Float64Array[], P: Float64Array[], Q: Float64Array[], b: ArrayLike<number>, n: number, rcond: number): Float64Array {
  const sigma2 = S.map((v) => dot(v, v));
  const cutoff = rcond * Math.sqrt(Math.max(0, ...sigma2));
  const x = new Float64Array(n);
  const bb = Float64Array.from(b);
  for (let j = 0; j < S.length; j++) {
    if (Math.sqrt(sigma2[j]!) <= cutoff || sigma2[j] === 0) continue;
    const coeff = dot(P[j]!, bb) / sigma2[j]!;
    const q = Q[j]!;
    for (let i = 0; i < n; i++) x[i] += coeff * q[i]!;
  }
  return x;
}

function dot(a: Float64Array, c: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * c[i]!;
  return s;
}

/** One-sided Jacobi: rotates the k vectors U in place until they are orthogonal; V holds the rotations (k × k). */
function jacobi(U: Float64Array[], k: number): { U: Float64Array[]; V: Float64Array[] } {
  const n = k;
  const m = U[0]?.length ?? 0;
  const V = Array.from({ length: n }, (_, j) => {
    const v = new Float64Array(n);
    v[j] = 1;
    return v;
  });
  for (let sweep = 0; sweep < 80; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const up = U[p]!;
        const uq = U[q]!;
        const alpha = dot(up, up);
        const beta = dot(uq, uq);
        const gamma = dot(up, uq);
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const x = up[i]!;
          const y = uq[i]!;
          up[i] = c * x - s * y;
          uq[i] = s * x + c * y;
        }
        const vp = V[p]!;
        const vq = V[q]!;
        for (let i = 0; i < n; i++) {
          const x = vp[i]!;
          const y = vq[i]!;
          vp[i] = c * x - s * y;
          vq[i] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  return { U, V };
}

/**
 * Least squares by the normal equations (Cholesky), ~10× faster than the SVD for tall systems, when
 * they are well conditioned; otherwise (a tiny pivot: rank deficiency or near) the SVD's minimum-norm
 * solution.
 */
export function lstsqFast(columns: Float64Array[], b: ArrayLike<number>): Float64Array {
  const n = columns.length;
  const m = b.length;
  const A = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const cp = columns[p]!;
    for (let q = p; q < n; q++) {
      const cq = columns[q]!;
      let s = 0;
      for (let i = 0; i < m; i++) s += cp[i]! * cq[i]!;
      A[p * n + q] = s;
      A[q * n + p] = s;
    }
    let r = 0;
    for (let i = 0; i < m; i++) r += cp[i]! * b[i]!;
    rhs[p] = r;
  }
  let maxDiag = 0;
  for (let j = 0; j < n; j++) maxDiag = Math.max(maxDiag, A[j * n + j]!);
  const x = choleskySolve(A, rhs, n, 1e-10 * maxDiag);
  return x ?? lstsq(columns, b);
}

/** Weighted means of the columns and of y; the centred, √w-scaled design as columns; the scaled y. */
function centre(X: Rows, y: ArrayLike<number>, w: ArrayLike<number>, m: number, n: number, intercept: boolean) {
  let wsum = 0;
  for (let i = 0; i < m; i++) wsum += w[i]!;
  if (!(wsum > 0)) throw new RangeError('the weights sum to 0');
  const xOffset = new Float64Array(n);
  let yOffset = 0;
  if (intercept) {
    for (let i = 0; i < m; i++) {
      const wi = w[i]! / wsum;
      const row = X[i]!;
      for (let j = 0; j < n; j++) xOffset[j] += wi * row[j]!;
      yOffset += wi * y[i]!;
    }
  }
  const cols = Array.from({ length: n }, () => new Float64Array(m));
  const ys = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const sw = Math.sqrt(w[i]!);
    const row = X[i]!;
    for (let j = 0; j < n; j++) cols[j]![i] = (row[j]! - xOffset[j]!) * sw;
    ys[i] = (y[i]! - yOffset) * sw;
  }
  return { cols, ys, xOffset, yOffset, wsum };
}

function interceptOf(coef: ArrayLike<number>, xOffset: Float64Array, yOffset: number): number {
  let s = yOffset;
  for (let j = 0; j < coef.length; j++) s -= xOffset[j]! * coef[j]!;
  return s;
}

/** sklearn.linear_model.LinearRegression(fit_intercept).fit(X, y, sample_weight=w). */
export function weightedLinearRegression(X: Rows, y: ArrayLike<number>, w: ArrayLike<number>, fitIntercept = true): LinearFit {
  const [m, n] = checkShapes(X, y, w);
  const { cols, ys, xOffset, yOffset } = centre(X, y, w, m, n, fitIntercept);
  const coef = lstsq(cols, ys);
  return { coef: Array.from(coef), intercept: fitIntercept ? interceptOf(coef, xOffset, yOffset) : 0 };
}

/** sklearn.linear_model.Ridge(alpha, fit_intercept).fit(X, y, sample_weight=w): min ‖√w(y − Xβ − c)‖² + α‖β‖². */
export function weightedRidge(X: Rows, y: ArrayLike<number>, w: ArrayLike<number>, alpha: number, fitIntercept = true): LinearFit {
  const [m, n] = checkShapes(X, y, w);
  if (!(alpha > 0)) throw new RangeError(`ridge alpha must be > 0, not ${alpha}`);
  const { cols, ys, xOffset, yOffset } = centre(X, y, w, m, n, fitIntercept);
  // Normal equations (XᵀX + αI) β = Xᵀy, solved by Cholesky: α > 0 keeps them positive definite.
  const A = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const cp = cols[p]!;
    for (let q = p; q < n; q++) {
      const cq = cols[q]!;
      let s = 0;
      for (let i = 0; i < m; i++) s += cp[i]! * cq[i]!;
      A[p * n + q] = s;
      A[q * n + p] = s;
    }
    A[p * n + p] += alpha;
    let r = 0;
    for (let i = 0; i < m; i++) r += cp[i]! * ys[i]!;
    rhs[p] = r;
  }
  const coef = choleskySolve(A, rhs, n, 0);
  if (!coef) throw new RangeError('the ridge system is not positive definite');
  return { coef: Array.from(coef), intercept: fitIntercept ? interceptOf(coef, xOffset, yOffset) : 0 };
}

/** Solves A x = b for a symmetric positive definite A; null when a pivot is not above `minPivot`. */
function choleskySolve(A: Float64Array, b: Float64Array, n: number, minPivot: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j]!;
    for (let k = 0; k < j; k++) d -= L[j * n + k]! ** 2;
    if (!(d > minPivot)) return null;
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = s / ljj;
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * n + k]! * z[k]!;
    z[i] = s / L[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  return x;
}

export interface LassoOptions {
  maxIter?: number;
  tol?: number;
}

/**
 * sklearn.linear_model.Lasso(alpha, fit_intercept=True).fit(X, y, sample_weight=w):
 * min 1/(2 Σw) Σ wᵢ (yᵢ − xᵢβ − c)² + α‖β‖₁, by scikit-learn's cyclic coordinate descent (weights
 * rescaled to sum to the sample count, the same stopping rule on the duality gap), so the same
 * iterate comes out.
 */
export function weightedLasso(X: Rows, y: ArrayLike<number>, w: ArrayLike<number>, alpha: number, opts: LassoOptions = {}): LinearFit {
  const [m, n] = checkShapes(X, y, w);
  if (!(alpha >= 0)) throw new RangeError(`lasso alpha must be >= 0, not ${alpha}`);
  const maxIter = opts.maxIter ?? 1000;
  let wsum = 0;
  for (let i = 0; i < m; i++) wsum += w[i]!;
  const scaled = Array.from(w, (v) => (v * m) / wsum);
  const { cols, ys, xOffset, yOffset } = centre(X, y, scaled, m, n, true);
  const l1 = alpha * m;
  const beta = new Float64Array(n);
  const R = Float64Array.from(ys);
  const norms = cols.map((c) => c.reduce((s, v) => s + v * v, 0));
  let yy = 0;
  for (let i = 0; i < m; i++) yy += ys[i]! * ys[i]!;
  const tol = (opts.tol ?? 1e-4) * yy;
  const dTol = opts.tol ?? 1e-4;
  for (let iter = 0; iter < maxIter; iter++) {
    let wMax = 0;
    let dwMax = 0;
    for (let j = 0; j < n; j++) {
      if (norms[j] === 0) continue;
      const c = cols[j]!;
      const old = beta[j]!;
      if (old !== 0) for (let i = 0; i < m; i++) R[i] += old * c[i]!;
      let tmp = 0;
      for (let i = 0; i < m; i++) tmp += c[i]! * R[i]!;
      const next = (Math.sign(tmp) * Math.max(Math.abs(tmp) - l1, 0)) / norms[j]!;
      beta[j] = next;
      if (next !== 0) for (let i = 0; i < m; i++) R[i] -= next * c[i]!;
      dwMax = Math.max(dwMax, Math.abs(next - old));
      wMax = Math.max(wMax, Math.abs(next));
    }
    if (wMax === 0 || dwMax / wMax < dTol || iter === maxIter - 1) {
      // Duality gap, as sklearn's enet_coordinate_descent computes it.
      let dual = 0;
      for (let j = 0; j < n; j++) {
        let s = 0;
        const c = cols[j]!;
        for (let i = 0; i < m; i++) s += c[i]! * R[i]!;
        dual = Math.max(dual, Math.abs(s));
      }
      let rr = 0;
      let ry = 0;
      for (let i = 0; i < m; i++) {
        rr += R[i]! * R[i]!;
        ry += R[i]! * ys[i]!;
      }
      let gap: number;
      let constant: number;
      if (dual > l1) {
        constant = l1 / dual;
        gap = 0.5 * (rr + rr * constant * constant);
      } else {
        constant = 1;
        gap = rr;
      }
      const l1norm = beta.reduce((s, v) => s + Math.abs(v), 0);
      gap += l1 * l1norm - constant * ry;
      if (gap < tol) break;
    }
  }
  return { coef: Array.from(beta), intercept: interceptOf(beta, xOffset, yOffset) };
}

/**
 * KernelSHAP's fit: weighted least squares of y − f(∅) on the coalitions Z with the constraint
 * Σφ = f(x) − f(∅), by eliminating the last feature (as the shap package does). With every coalition
 * and the Shapley kernel weights, the solution is the exact Shapley values.
 */
export function constrainedShapleyFit(Z: Rows, y: ArrayLike<number>, w: ArrayLike<number>, fEmpty: number, fFull: number): number[] {
  const [m, M] = checkShapes(Z, y, w);
  const delta = fFull - fEmpty;
  if (M === 0) return [];
  if (M === 1) return [delta];
  const cols = Array.from({ length: M - 1 }, () => new Float64Array(m));
  const ys = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const z = Z[i]!;
    const sw = Math.sqrt(w[i]!);
    const last = z[M - 1]!;
    for (let j = 0; j < M - 1; j++) cols[j]![i] = (z[j]! - last) * sw;
    ys[i] = (y[i]! - fEmpty - last * delta) * sw;
  }
  const phi = Array.from(lstsqFast(cols, ys));
  phi.push(delta - phi.reduce((s, v) => s + v, 0));
  return phi;
}
